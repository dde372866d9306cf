// The WGSL linker: a kernel's source is a list of named modules (shader files,
// shared ones such as rng.wgsl first, the kernel's own file, then gemm.wgsl for
// the GEMM kernels), concatenated in order. It keeps a line map, so a
// compiler message about line 212 of the linked code reads
// `shaders/tempered_hidden.wgsl:40:7 …`, the file and line a reader can open.
//
// A module appears once however often it is listed (the first listing wins),
// and each starts on a line of its own, so a column in the linked code is the
// same column in the module.

/** One WGSL source file: its name under shaders/ (`rng.wgsl`) and its text. */
export interface WgslModule {
  readonly name: string;
  readonly code: string;
}

/** Where one module sits in linked code: lines first..first+lines-1 (1-based). */
export interface ModuleSpan {
  readonly module: string;
  readonly firstLine: number;
  readonly lines: number;
}

/** Linked WGSL: the code the device compiles, and the module each of its lines came from. */
export interface LinkedWgsl {
  readonly code: string;
  readonly spans: readonly ModuleSpan[];
}

/** A line of linked code, traced to its module. */
export interface SourceLocation {
  /** Display path: `shaders/<name>` for shader files, the name as given for generated code. */
  readonly file: string;
  /** 1-based line within the module. */
  readonly line: number;
}

/** Folder the module names are relative to, as messages print it. */
export const SHADER_DIR = 'shaders/';

/** Names of generated modules (enable directives, test code) start with `<`; they are printed as given. */
function displayPath(name: string): string {
  return name.startsWith('<') ? name : SHADER_DIR + name;
}

/** Lines in `code` as the linker counts them (a final newline ends the last line). */
function lineCount(code: string): number {
  let n = 0;
  for (let i = code.indexOf('\n'); i !== -1; i = code.indexOf('\n', i + 1)) n++;
  return code.length > 0 && !code.endsWith('\n') ? n + 1 : n;
}

// Every module made by wgslModule, by its text: lets unlinked code (bare
// concatenations of shader files) be traced to files after the fact.
const known = new Map<string, string>();

/** A named module; also remembered, so traceModules can recognise its text in concatenated code. */
export function wgslModule(name: string, code: string): WgslModule {
  if (code.length > 0 && !known.has(code)) known.set(code, name);
  return { name, code };
}

/** The module holding `enable` directives, which WGSL requires before every other declaration. */
export function enableModule(...extensions: readonly string[]): WgslModule {
  return { name: '<enable directives>', code: extensions.map((e) => `enable ${e};\n`).join('') };
}

/**
 * Concatenates modules in order (a repeated module, by name, is kept at its first
 * place; a module not ending in a newline gets one) and records the line map.
 */
export function linkWgsl(modules: readonly WgslModule[]): LinkedWgsl {
  const seen = new Map<string, string>();
  const parts: string[] = [];
  const spans: ModuleSpan[] = [];
  let nextLine = 1;
  for (const m of modules) {
    const earlier = seen.get(m.name);
    if (earlier !== undefined) {
      if (earlier !== m.code) throw new Error(`WGSL link: two different modules are named ${m.name}`);
      continue;
    }
    seen.set(m.name, m.code);
    const code = m.code.length === 0 || m.code.endsWith('\n') ? m.code : m.code + '\n';
    const lines = lineCount(code);
    parts.push(code);
    spans.push({ module: m.name, firstLine: nextLine, lines });
    nextLine += lines;
  }
  return { code: parts.join(''), spans };
}

/** The module and module line of a 1-based line of linked code (undefined past its end or for line 0). */
export function locate(linked: LinkedWgsl, line: number): SourceLocation | undefined {
  for (const s of linked.spans) {
    if (line >= s.firstLine && line < s.firstLine + s.lines) return { file: displayPath(s.module), line: line - s.firstLine + 1 };
  }
  return undefined;
}

/**
 * The line map of code that was not linked (a bare concatenation such as
 * `rngWGSL + gatherWGSL`): at each line start, the longest module made by
 * wgslModule whose text starts there; lines no module accounts for become
 * modules named `fallback` (`fallback#2`, … after the first).
 */
export function traceModules(code: string, fallback: string): LinkedWgsl {
  const modules: WgslModule[] = [];
  let at = 0;
  let pending = -1;
  const flush = (end: number): void => {
    if (pending < 0) return;
    const n = modules.filter((m) => m.name.startsWith(fallback)).length;
    modules.push({ name: n === 0 ? fallback : `${fallback}#${n + 1}`, code: code.slice(pending, end) });
    pending = -1;
  };
  while (at < code.length) {
    let match: WgslModule | undefined;
    for (const [text, name] of known) {
      if (text.endsWith('\n') && code.startsWith(text, at) && (!match || text.length > match.code.length)) match = { name, code: text };
    }
    if (match && !modules.some((m) => m.name === match.name)) {
      flush(at);
      modules.push(match);
      at += match.code.length;
      continue;
    }
    if (pending < 0) pending = at;
    const eol = code.indexOf('\n', at);
    at = eol === -1 ? code.length : eol + 1;
  }
  flush(code.length);
  const linked = linkWgsl(modules);
  // The same text, so lines map one to one (guarded all the same).
  return linked.code === code ? linked : { code, spans: [{ module: fallback, firstLine: 1, lines: lineCount(code) }] };
}

/** One compiler message, as the engine reports it. */
export interface WgslMessage {
  readonly type: string;
  readonly lineNum: number;
  readonly linePos: number;
  /** Characters the message is about (a caret under each, at least one). */
  readonly length?: number;
  readonly message: string;
}

/**
 * `shaders/<file>.wgsl:<line>:<col> <message>`, then the offending source line
 * and carets under the characters it is about. Messages without a position print as `<fallback>: message`.
 */
export function formatMessage(linked: LinkedWgsl, m: WgslMessage, fallback: string): string {
  const where = m.lineNum > 0 ? locate(linked, m.lineNum) : undefined;
  if (!where) return `${fallback}: ${m.message}`;
  const head = `${where.file}:${where.line}:${m.linePos} ${m.message}`;
  const text = linked.code.split('\n')[m.lineNum - 1];
  if (text === undefined || text.trim().length === 0) return head;
  const carets = '^'.repeat(Math.max(1, Math.min(m.length ?? 1, text.length - m.linePos + 1)));
  return `${head}\n  ${text}\n  ${' '.repeat(Math.max(0, m.linePos - 1))}${carets}`;
}
