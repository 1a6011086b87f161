/**
 * A `BatchValidator` with a bug, for the tests of what a defect in a service the application provides
 * does to the engine: the default validator, except that it throws on the events `isBad` picks.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as BatchValidator from "../../src/BatchValidator.js"

export const throwingValidator = (isBad: (message: string) => boolean) =>
  Layer.effect(
    BatchValidator.BatchValidator,
    Effect.map(BatchValidator.make({}), (real): BatchValidator.BatchValidatorShape => {
      const bad = (input: unknown) =>
        typeof input === "object" && input !== null && "message" in input && typeof input.message === "string" &&
        isBad(input.message)
      return {
        ...real,
        checkValid: (input, now, into) => !bad(input) && real.checkValid(input, now, into),
        check: (input, now) => {
          if (bad(input)) throw new RangeError("validator bug")
          return real.check(input, now)
        }
      }
    })
  )
