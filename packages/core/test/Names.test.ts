import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { InvalidParameterException } from "../src/CloudWatchLogsError.js"
import * as Limits from "../src/Limits.js"
import * as Names from "../src/Names.js"

/**
 * The patterns of the AWS API model (`LogGroupName`, `LogStreamName` in the `logs` 2014-03-28 model), as
 * the model writes them. AWS anchors a member's pattern at both ends.
 */
const MODEL_GROUP_PATTERN = new RegExp("^(?:[\\.\\-_/#A-Za-z0-9]+)$", "u")
const MODEL_STREAM_PATTERN = new RegExp("^(?:[^:*]*)$", "u")

const ruleOf = <A>(e: Either.Either<A, InvalidParameterException>): string | undefined =>
  Either.isLeft(e) ? e.left.rule : undefined

/** Every UTF-16 code unit but the surrogates, and a few characters beyond the BMP. */
const characters: ReadonlyArray<string> = [
  ...Array.from({ length: 0xd800 }, (_, c) => String.fromCharCode(c)),
  ...Array.from({ length: 0x10000 - 0xe000 }, (_, i) => String.fromCharCode(0xe000 + i)),
  "😀",
  "\u{10ffff}"
]

describe("Names", () => {
  describe("log group names", () => {
    it("accepts 1 character and 512, refuses 0 and 513, with InvalidLogGroupName", () => {
      expect(Names.MAX_NAME_LENGTH).toBe(512)
      expect(Names.validateLogGroupName("g")).toEqual(Either.right("g"))
      expect(Names.validateLogGroupName("g".repeat(512))).toEqual(Either.right("g".repeat(512)))
      for (const bad of ["", "g".repeat(513)]) {
        const result = Names.validateLogGroupName(bad)
        expect(ruleOf(result)).toBe("InvalidLogGroupName")
        if (Either.isLeft(result)) {
          expect(result.left).toBeInstanceOf(InvalidParameterException)
          expect(result.left.message).toMatch(/at 'logGroupName' failed to satisfy constraint/)
        }
      }
    })

    it("accepts a name of 512 characters drawn from every allowed character", () => {
      const name = "._-/#AZaz09".repeat(46).padEnd(512, "x")
      expect(name.length).toBe(512)
      expect(Either.isRight(Names.validateLogGroupName(name))).toBe(true)
      expect(ruleOf(Names.validateLogGroupName(name + "x"))).toBe("InvalidLogGroupName")
    })

    it("accepts exactly the characters the API model's pattern accepts", () => {
      const disagree: Array<string> = []
      for (const c of characters) {
        const ours = Either.isRight(Names.validateLogGroupName(`a${c}b`))
        if (ours !== MODEL_GROUP_PATTERN.test(`a${c}b`)) disagree.push(c)
      }
      expect(disagree).toEqual([])
      // anchored at both ends: a trailing line break is not let through
      expect(MODEL_GROUP_PATTERN.test("g\n")).toBe(false)
      expect(ruleOf(Names.validateLogGroupName("g\n"))).toBe("InvalidLogGroupName")
    })
  })

  describe("log stream names", () => {
    it("accepts 1 character and 512, refuses 0 and 513, with InvalidLogStreamName", () => {
      expect(Names.validateLogStreamName("s")).toEqual(Either.right("s"))
      expect(Names.validateLogStreamName("s".repeat(512))).toEqual(Either.right("s".repeat(512)))
      for (const bad of ["", "s".repeat(513)]) {
        const result = Names.validateLogStreamName(bad)
        expect(ruleOf(result)).toBe("InvalidLogStreamName")
        if (Either.isLeft(result)) {
          expect(result.left).toBeInstanceOf(InvalidParameterException)
          expect(result.left.message).toMatch(/at 'logStreamName' failed to satisfy constraint/)
        }
      }
    })

    it("refuses ':' and '*' anywhere, even alone; a 512-character name of other characters is fine", () => {
      for (const bad of [":", "*", "a:b", "a*b", ":".padEnd(512, "s"), "s".repeat(511) + "*"]) {
        expect(ruleOf(Names.validateLogStreamName(bad))).toBe("InvalidLogStreamName")
      }
      const name = "any thing/é#.,;!?\t".padEnd(512, "s")
      expect(name.length).toBe(512)
      expect(Either.isRight(Names.validateLogStreamName(name))).toBe(true)
    })

    it("accepts exactly the characters the API model's pattern accepts", () => {
      const disagree: Array<string> = []
      for (const c of characters) {
        const ours = Either.isRight(Names.validateLogStreamName(`a${c}b`))
        if (ours !== MODEL_STREAM_PATTERN.test(`a${c}b`)) disagree.push(c)
      }
      expect(disagree).toEqual([])
    })
  })

  describe("retention", () => {
    it("accepts exactly the periods PutRetentionPolicy accepts (the API model's enum), and none", () => {
      for (const days of Limits.RETENTION_DAYS) expect(Names.validateRetention(days)).toEqual(Either.right(days))
      expect(Names.validateRetention(undefined)).toEqual(Either.right(undefined))
      // around the ends and between two allowed values
      for (const bad of [0, -1, 2, 10, 3652, 3654, 1.5, Number.NaN]) {
        expect(ruleOf(Names.validateRetention(bad))).toBe("InvalidRetention")
      }
    })

    it("a destination is checked for its retention after its names", () => {
      const d = { logGroupName: "g", logStreamName: "s", retentionInDays: 10 }
      expect(ruleOf(Names.validateDestination(d))).toBe("InvalidRetention")
      expect(ruleOf(Names.validateDestination({ ...d, logGroupName: "a b" }))).toBe("InvalidLogGroupName")
      expect(Names.validateDestination({ ...d, retentionInDays: 14 })).toEqual(
        Either.right({ ...d, retentionInDays: 14 })
      )
    })
  })
})
