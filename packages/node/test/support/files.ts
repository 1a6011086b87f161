import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

/** A file with `content` in a directory of its own, removed with the directory when the scope closes. */
export const tempFile = (content: string | Uint8Array, name = "input.log") =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-test-"))
      const file = Path.join(dir, name)
      Fs.writeFileSync(file, content)
      return file
    }),
    (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
  )
