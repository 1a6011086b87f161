/**
 * Options read from `Config`, refused when a rule of theirs is broken.
 *
 * @internal
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"

/**
 * `config`, failing with a `ConfigError` (`InvalidData`, the message `invalid` gives) when the options
 * read break a rule.
 *
 * @internal
 */
export const checked = <A>(config: Config.Config<A>, invalid: (a: A) => string | undefined): Config.Config<A> =>
  Config.mapOrFail(config, (a) => {
    const message = invalid(a)
    return message === undefined ? Either.right(a) : Either.left(ConfigError.InvalidData([], message))
  })
