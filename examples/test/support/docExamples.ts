/**
 * Type-checks every TypeScript example a user reads:
 * - the ```ts blocks of README.md and docs/*.md,
 * - the ```ts blocks in the doc comments of the public modules (`packages/*\/src`, not `internal/` or
 *   `bin/`): the `@example` blocks and the module overviews.
 *
 * Each example is written to a file of its own in a directory under `examples/` (so that `effect`,
 * `@cwlogs/*`, the AWS SDK and `@effect/vitest` resolve through the workspace and each package's
 * `exports`, to its sources), after a generated preamble:
 * - an import for every free identifier that names a module: `effect`'s modules, the namespaces of the
 *   `@cwlogs/*` entry points and subpaths, a few well-known ones (`it`, `NodeRuntime`, ...);
 * - `declare const` for the free variables the prose implies (`EXTRA`, per example);
 * - a fragment with `yield*` outside a generator is wrapped in `Effect.gen`, and fragments that declare
 *   the same name (the README's "... or ..." alternatives) each get a scope of their own.
 *
 * Then all of them are type-checked together with `tsconfig.base.json`'s settings (strict,
 * `exactOptionalPropertyTypes`, NodeNext). "Declared but never read" is reported only for an import the
 * example writes itself (a fragment may declare names it does not use; an import it shows should be
 * needed). Errors are reported at the line of the Markdown or source file.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

interface Example {
  /** Relative to the repository's root. */
  readonly file: string
  /** 1-based line of the example's first line of code. */
  readonly line: number
  readonly code: ReadonlyArray<string>
  readonly kind: "markdown" | "@example" | "doc comment"
}

/** What `check` found. */
export interface Checked {
  readonly examples: number
  /** One line per problem, `file:line:column  TSnnnn: message` where it is in an example. */
  readonly errors: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------------------------------
// 1. Collect

const CODE_OPEN = /^(\s*)```(ts|typescript)\s*$/
const CODE_CLOSE = /^\s*```\s*$/

const fromMarkdown = (root: string, file: string): Array<Example> => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
  const out: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (!CODE_OPEN.test(lines[i])) continue
    const start = i + 1
    let j = start
    while (j < lines.length && !CODE_CLOSE.test(lines[j])) j++
    out.push({ file, line: start + 1, code: lines.slice(start, j), kind: "markdown" })
    i = j
  }
  return out
}

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name)
    if (d.isDirectory()) return d.name === "internal" || d.name === "bin" ? [] : walk(p)
    return d.name.endsWith(".ts") && !d.name.endsWith(".d.ts") ? [p] : []
  })

const fromSource = (root: string, file: string): Array<Example> => {
  const lines = fs.readFileSync(path.join(root, file), "utf8").split("\n")
  const out: Array<Example> = []
  let inComment = false
  let sawExampleTag = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!inComment && /^\s*\/\*\*/.test(line)) {
      inComment = true
      sawExampleTag = false
    }
    if (!inComment) continue
    if (/@example\b/.test(line)) sawExampleTag = true
    if (/^\s*\*?\s*```(ts|typescript)\s*$/.test(line)) {
      const start = i + 1
      let j = start
      while (j < lines.length && !/^\s*\*?\s*```\s*$/.test(lines[j])) j++
      const code = lines.slice(start, j).map((l) => l.replace(/^\s*\* ?/, ""))
      out.push({ file, line: start + 1, code, kind: sawExampleTag ? "@example" : "doc comment" })
      i = j
      continue
    }
    if (/\*\//.test(line)) inComment = false
  }
  return out
}

/** Every example of the repository at `root`. */
const collect = (root: string): Array<Example> => {
  const markdown = [
    "README.md",
    ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).sort()
      .map((f) => `docs/${f}`)
  ]
  const sources = fs.readdirSync(path.join(root, "packages")).sort().flatMap((pkg) => {
    const src = path.join(root, "packages", pkg, "src")
    return fs.existsSync(src) ? walk(src).sort().map((f) => path.relative(root, f)) : []
  })
  return [...markdown.flatMap((f) => fromMarkdown(root, f)), ...sources.flatMap((f) => fromSource(root, f))]
}

// ---------------------------------------------------------------------------------------------------
// 2. What an identifier may be imported from (read from the workspace, not listed by hand)

/** `export * as X from "./X.js"` of an entry point. */
const namespacesOf = (indexFile: string): Array<string> =>
  [...fs.readFileSync(indexFile, "utf8").matchAll(/export \* as (\w+) from/g)].map((m) => m[1])

/** TypeScript's global type names a namespace import would shadow. */
const GLOBAL_TYPES = new Set(["Record", "Iterable", "Readonly", "Partial", "Required", "Pick", "Omit", "Types"])

/** The `types` file of each subpath of a package's `exports`. */
const exportedTypes = (manifest: unknown): Array<readonly [string, string]> => {
  if (typeof manifest !== "object" || manifest === null || !("exports" in manifest)) return []
  const exports = manifest.exports
  if (typeof exports !== "object" || exports === null) return []
  return Object.entries(exports).flatMap(([subpath, target]: [string, unknown]) =>
    typeof target === "object" && target !== null && "types" in target && typeof target.types === "string"
      ? [[subpath, target.types] as const]
      : []
  )
}

/** name -> the import statement that brings it. */
const importables = (root: string): ReadonlyMap<string, string> => {
  const importable = new Map<string, string>()
  const offer = (name: string, statement: string) => {
    const prior = importable.get(name)
    if (prior !== undefined && prior !== statement) throw new Error(`${name} is both ${prior} and ${statement}`)
    importable.set(name, statement)
  }
  const effectIndex = path.join(root, "examples", "node_modules", "effect", "src", "index.ts")
  for (const name of namespacesOf(effectIndex)) {
    if (!/^[A-Z]/.test(name) || name in globalThis || GLOBAL_TYPES.has(name)) continue
    offer(name, `import { ${name} } from "effect"`)
  }
  for (const pkg of ["core", "node", "testkit"]) {
    const dir = path.join(root, "packages", pkg)
    const name = `@cwlogs/${pkg}`
    for (const [subpath, types] of exportedTypes(JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")))) {
      if (subpath === ".") {
        for (const ns of namespacesOf(path.join(dir, types))) offer(ns, `import { ${ns} } from "${name}"`)
      } else {
        const ns = subpath.slice(2)
        offer(ns, `import * as ${ns} from "${name}/${ns}"`)
      }
    }
  }
  // well-known names from the other packages the examples use
  offer("it", `import { it } from "@effect/vitest"`)
  offer("expect", `import { expect } from "@effect/vitest"`)
  offer("describe", `import { describe } from "@effect/vitest"`)
  offer("NodeRuntime", `import { NodeRuntime } from "@effect/platform-node"`)
  offer("NodeContext", `import { NodeContext } from "@effect/platform-node"`)
  offer("KeyValueStore", `import { KeyValueStore } from "@effect/platform"`)
  offer("CloudWatchLogsClient", `import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs"`)
  offer("path", `import * as path from "node:path"`)
  offer("os", `import * as os from "node:os"`)
  return importable
}

// ---------------------------------------------------------------------------------------------------
// 3. Free variables the prose implies, per example: the example of `file` whose code contains `contains`
//    (not a line number, so that editing the prose above an example does not orphan its entry)

interface Extra {
  readonly file: string
  readonly contains: string
  readonly declare: ReadonlyArray<string>
}

const stream = "declare const events: Stream.Stream<LogEvent.LogEvent>"
const names = ["declare const logGroupName: string", "declare const logStreamName: string"]

const EXTRA: ReadonlyArray<Extra> = [
  {
    file: "README.md",
    contains: "// 1. an Effect app whose logs go to CloudWatch",
    declare: [
      stream,
      ...names,
      "declare const records: Stream.Stream<LogEvent.LogEvent>",
      "declare const destination: Destination.Destination",
      "declare const commit: (events: ReadonlyArray<LogEvent.LogEvent>) => Effect.Effect<void>",
      "declare const directory: string"
    ]
  },
  {
    file: "docs/node.md",
    contains: "NodeCloudWatchLogs.layerClient(myCloudWatchLogsClient)",
    declare: ["declare const myCloudWatchLogsClient: CloudWatchLogsClient"]
  },
  {
    file: "docs/node.md",
    contains: "const spool = yield* DurableSpool.make({ directory })",
    declare: [
      stream,
      "declare const directory: string",
      "declare const destination: Destination.Destination",
      "declare const event: LogEvent.LogEvent"
    ]
  },
  {
    file: "docs/node.md",
    contains: "yield* serveForever",
    declare: ["declare const serveForever: Effect.Effect<never>"]
  },
  {
    file: "packages/core/src/CloudWatchLogs.ts",
    contains: "CloudWatchLogs.sink({ logGroupName, logStreamName })",
    declare: [stream, ...names]
  },
  {
    file: "packages/node/src/DurableSpool.ts",
    contains: "DurableSpool.sink({ logGroupName, logStreamName }",
    declare: [stream, ...names]
  }
]

const extraFor = (example: Example): ReadonlyArray<Extra> =>
  EXTRA.filter((x) => x.file === example.file && example.code.join("\n").includes(x.contains))

// ---------------------------------------------------------------------------------------------------
// 4. Generate

const parse = (code: string) => ts.createSourceFile("x.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)

/** Identifiers the code uses that are not property names (not after `.`). */
const usedIdentifiers = (code: string): Set<string> => {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code)
  const used = new Set<string>()
  let previous = ts.SyntaxKind.Unknown
  for (let t = scanner.scan(); t !== ts.SyntaxKind.EndOfFileToken; t = scanner.scan()) {
    if (t === ts.SyntaxKind.Identifier && previous !== ts.SyntaxKind.DotToken) used.add(scanner.getTokenValue())
    previous = t
  }
  return used
}

/** Names the example binds itself (imports, declarations). */
const declaredNames = (code: string): Set<string> => {
  const found = new Set<string>()
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && node.importClause !== undefined) {
      const c = node.importClause
      if (c.name) found.add(c.name.text)
      if (c.namedBindings) {
        if (ts.isNamespaceImport(c.namedBindings)) found.add(c.namedBindings.name.text)
        else for (const e of c.namedBindings.elements) found.add(e.name.text)
      }
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) found.add(node.name.text)
    if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name) found.add(node.name.text)
    ts.forEachChild(node, visit)
  }
  visit(parse(code))
  return found
}

/** Top-level `const`/`let` names of a fragment. */
const topLevelBindings = (code: string): Array<string> =>
  parse(code).statements.flatMap((s) =>
    ts.isVariableStatement(s)
      ? s.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []))
      : []
  )

/** Splits at blank lines outside brackets: the fragments of an example. */
const fragments = (code: ReadonlyArray<string>): Array<{ start: number; end: number }> => {
  const out: Array<{ start: number; end: number }> = []
  let depth = 0
  let start = -1
  for (let i = 0; i < code.length; i++) {
    const line = code[i].replace(/\/\/.*$/, "").replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, "")
    if (code[i].trim() === "" && depth === 0) {
      if (start >= 0) out.push({ start, end: i })
      start = -1
      continue
    }
    if (start < 0) start = i
    for (const ch of line) {
      if ("([{".includes(ch)) depth++
      else if (")]}".includes(ch)) depth--
    }
  }
  if (start >= 0) out.push({ start, end: code.length })
  return out
}

/** `yield*` used outside any generator function of the example itself. */
const needsGen = (code: string): boolean => {
  let found = false
  const visit = (node: ts.Node, inGenerator: boolean) => {
    if (found) return
    if (ts.isYieldExpression(node) && !inGenerator) found = true
    const gen = ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)
      ? node.asteriskToken !== undefined
      : ts.isArrowFunction(node)
      ? false
      : inGenerator
    ts.forEachChild(node, (c) => visit(c, gen))
  }
  visit(parse(code), false)
  // the parser reads `yield` outside a generator as an identifier in some positions
  return found || (/(^|[^\w.])yield\*/m.test(code) && !/function\s*\*/.test(code))
}

interface Generated {
  readonly example: Example
  readonly fileName: string
  /** generated line (0-based) -> line in the original file (1-based), or undefined for the preamble */
  readonly lineMap: ReadonlyArray<number | undefined>
}

const generate = (
  importable: ReadonlyMap<string, string>,
  out: string,
  example: Example,
  index: number
): Generated => {
  const code = example.code.join("\n")
  const extra = extraFor(example).flatMap((x) => x.declare)
  const declared = declaredNames(code)
  const used = new Set([...usedIdentifiers(code), ...extra.flatMap((d) => [...usedIdentifiers(d)])])
  const imports = [...used].filter((n) => !declared.has(n)).sort().flatMap((n) => {
    const statement = importable.get(n)
    return statement === undefined ? [] : [statement]
  })

  const lines: Array<string> = []
  const map: Array<number | undefined> = []
  const emit = (text: string, origin?: number) => {
    lines.push(text)
    map.push(origin)
  }
  emit(`// ${example.file}:${example.line} (${example.kind})`)
  // the example's own imports first, as written
  example.code.forEach((l, i) => /^import\b/.test(l) && emit(l, example.line + i))
  for (const i of imports) emit(i)
  for (const d of extra) emit(d)
  emit("export {}")

  const body = example.code.flatMap((l, i) => (/^import\b/.test(l) ? [] : [{ l, i }]))
  const bodyLines = body.map(({ l }) => l)
  const parts = fragments(bodyLines)
  const seen = new Map<string, number>()
  for (const p of parts) {
    for (const n of topLevelBindings(bodyLines.slice(p.start, p.end).join("\n"))) seen.set(n, (seen.get(n) ?? 0) + 1)
  }
  const clash = [...seen.values()].some((c) => c > 1)
  const gen = needsGen(bodyLines.join("\n"))
  const groups = clash ? parts : [{ start: 0, end: bodyLines.length }]
  groups.forEach((g, k) => {
    const open = gen ? `const _fragment${k} = Effect.gen(function*() {` : clash ? "{" : undefined
    if (open !== undefined) emit(open)
    for (let i = g.start; i < g.end; i++) emit(bodyLines[i], example.line + body[i].i)
    if (open !== undefined) emit(gen ? "})" : "}")
  })
  if (gen && !lines.some((l) => /\bEffect\b.*from "effect"/.test(l)) && !declared.has("Effect")) {
    lines.splice(1, 0, `import { Effect } from "effect"`)
    map.splice(1, 0, undefined)
  }
  const fileName = path.join(out, `ex${String(index).padStart(2, "0")}.ts`)
  fs.writeFileSync(fileName, lines.join("\n") + "\n")
  return { example, fileName, lineMap: map }
}

// ---------------------------------------------------------------------------------------------------
// 5. Check

/** "Declared but never read" and kin. */
const UNUSED = new Set([6133, 6138, 6192, 6196, 6198, 6199, 6205])

/** Compiler options: the base config's, checking only. */
const compilerOptions = (root: string, out: string, files: ReadonlyArray<string>): ts.CompilerOptions => {
  const base = ts.readConfigFile(path.join(root, "tsconfig.base.json"), ts.sys.readFile)
  if (base.error) throw new Error(ts.flattenDiagnosticMessageText(base.error.messageText, "\n"))
  const config: unknown = base.config
  const options = typeof config === "object" && config !== null && "compilerOptions" in config
    ? config.compilerOptions
    : {}
  const parsed = ts.parseJsonConfigFileContent(
    {
      compilerOptions: {
        ...(typeof options === "object" ? options : {}),
        noEmit: true,
        // on, but reported only for the imports an example writes itself (below)
        noUnusedLocals: true,
        noUnusedParameters: false,
        declaration: false,
        declarationMap: false,
        sourceMap: false
      },
      files
    },
    ts.sys,
    out
  )
  return parsed.options
}

/**
 * Type-checks every example of the repository at `root`, writing the generated files into `out` (a
 * directory under `examples/`, which the caller makes and removes).
 */
export const check = (root: string, out: string): Checked => {
  const examples = collect(root)
  const importable = importables(root)
  const errors: Array<string> = []
  for (const x of EXTRA) {
    if (!examples.some((e) => extraFor(e).includes(x))) {
      errors.push(`${x.file}: no example contains ${JSON.stringify(x.contains)} (a stale EXTRA entry)`)
    }
  }
  const generated = examples.map((e, i) => generate(importable, out, e, i))
  const fileNames = generated.map((g) => g.fileName)
  const program = ts.createProgram({ rootNames: fileNames, options: compilerOptions(root, out, fileNames) })
  const byFile = new Map(generated.map((g) => [path.resolve(g.fileName), g]))
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n  ")
    const g = d.file ? byFile.get(path.resolve(d.file.fileName)) : undefined
    if (g === undefined || d.file === undefined || d.start === undefined) {
      errors.push(`${d.file ? path.relative(root, d.file.fileName) : "(global)"}: TS${d.code}: ${message}`)
      continue
    }
    const { character, line } = d.file.getLineAndCharacterOfPosition(d.start)
    const origin = g.lineMap[line]
    const ownImport = origin !== undefined && /^import\b/.test(g.example.code[origin - g.example.line])
    if (UNUSED.has(d.code) && !ownImport) continue
    const where = origin !== undefined
      ? `${g.example.file}:${origin}:${character + 1}`
      : `${g.example.file}:${g.example.line} (generated line ${line + 1})`
    errors.push(`${where}  TS${d.code}: ${message}`)
  }
  return { examples: examples.length, errors }
}
