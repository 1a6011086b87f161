/**
 * What every child of `memory-in-effect-app` loads before its contender (`node --import`): the Effect
 * runtime an application with a stream pipeline has loaded anyway (`Effect`, `Layer`, `Stream`,
 * `Schedule`, `Logger`, `Config`), so that each contender's figure is what it adds to such an
 * application. cwlogs loads these itself; a peer's application has them too.
 *
 * @since 0.1.0
 */
import "effect/Config"
import "effect/Effect"
import "effect/Layer"
import "effect/Logger"
import "effect/Schedule"
import "effect/Stream"
