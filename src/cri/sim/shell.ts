// A very small shell for the simulated runtime: it parses the one-liners pods carry
// (`sh -c "while true; do echo hi; sleep 5; done"`) and plays them as a generator of effects
// (a line of output, a sleep, "runs until stopped", a trap), which containers.ts drives on real
// timers and ExecSync plays at once. It is not a shell: what it does not know it refuses
// (ShellUnsupported) so that the container fails visibly instead of doing something else.
// src/cri/sim/README.md lists what it plays.
import { basename } from 'node:path';

/** One thing a playing script does. */
export type Effect =
  | { k: 'out'; stream: 'stdout' | 'stderr'; text: string }
  | { k: 'sleep'; ms: number }
  /** The process goes on doing nothing visible until it is stopped (a server, `sleep infinity`). */
  | { k: 'forever' }
  /** A signal handler was installed: SIGTERM no longer ends the process. */
  | { k: 'trap' };

/** A construct the sim does not play; the container fails with 127 and this message. */
export class ShellUnsupported extends Error {}

export interface ShellContext {
  vars: Map<string, string>;
  hostname: string;
  /** 'process': unknown commands run until stopped (they stand for servers);
   * 'exec': unknown commands succeed at once without output (probes such as `cat /tmp/ok`). */
  mode: 'process' | 'exec';
  /** Files the script created (touch, `>`), for cat and [ -f ]. */
  files: Map<string, string>;
  lastCode: number;
}

/** A loop iteration that did not sleep takes this long, so a tight loop cannot spin the agent. */
export const TIGHT_LOOP_MS = 10;

// ---------- words and tokens ----------

/** A word as written: literal parts (single-quoted) and parts to expand. */
type Part = { lit: string } | { exp: string; quoted: boolean };
type Word = Part[];
type Token = { w: Word; raw: string } | { op: string };

const OPS = ['&&', '||', ';;', '>>', '>&', '<<', ';', '\n', '&', '|', '(', ')', '<', '>'];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let parts: Part[] = [];
  let raw = '';
  let cur = '';
  let has = false;
  const pushCur = (quoted: boolean) => { if (cur) parts.push({ exp: cur, quoted }); cur = ''; };
  const endWord = () => {
    pushCur(false);
    if (has) tokens.push({ w: parts, raw });
    parts = []; raw = ''; has = false;
  };
  /** $(...) or $((...)) starting at i ('$' at i): returns the end index (exclusive). */
  const balanced = (i: number): number => {
    let depth = 0;
    for (let j = i + 1; j < src.length; j++) {
      if (src[j] === '(') depth++;
      else if (src[j] === ')' && --depth === 0) return j + 1;
      else if (src[j] === "'" ) { const k = src.indexOf("'", j + 1); if (k < 0) break; j = k; }
    }
    throw new ShellUnsupported('an unterminated $( ... )');
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new ShellUnsupported('an unterminated quote');
      pushCur(false);
      parts.push({ lit: src.slice(i + 1, end) });
      raw += src.slice(i, end + 1); has = true; i = end;
    } else if (ch === '"') {
      pushCur(false);
      let j = i + 1;
      let text = '';
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\' && j + 1 < src.length && '"\\$`'.includes(src[j + 1]!)) {
          // an escaped $ must stay literal: keep it as a literal part
          if (src[j + 1] === '$') { if (text) parts.push({ exp: text, quoted: true }); text = ''; parts.push({ lit: '$' }); j++; continue; }
          text += src[++j]; continue;
        }
        if (src[j] === '$' && src[j + 1] === '(') { const e = balanced(j); text += src.slice(j, e); j = e - 1; continue; }
        if (src[j] === '`') throw new ShellUnsupported('backquote command substitution (`...`): write $(...)');
        text += src[j];
      }
      if (j >= src.length) throw new ShellUnsupported('an unterminated quote');
      if (text) parts.push({ exp: text, quoted: true });
      raw += src.slice(i, j + 1); has = true; i = j;
    } else if (ch === '\\' && i + 1 < src.length) {
      pushCur(false);
      if (src[i + 1] !== '\n') parts.push({ lit: src[i + 1]! });
      raw += src.slice(i, i + 2); has = src[i + 1] !== '\n' || has; i++;
    } else if (ch === '$' && src[i + 1] === '(') {
      const e = balanced(i);
      cur += src.slice(i, e); raw += src.slice(i, e); has = true; i = e - 1;
    } else if (ch === '`') {
      throw new ShellUnsupported('backquote command substitution (`...`): write $(...)');
    } else if (ch === '#' && !has) {
      while (i + 1 < src.length && src[i + 1] !== '\n') i++;
    } else if (ch === ' ' || ch === '\t') {
      endWord();
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (op) {
        // 2>&1, 2>/dev/null: a lone digit before a redirection is its file descriptor
        const fd = (op === '>' || op === '>>' || op === '>&') && has && parts.length === 0 && /^[0-9]$/.test(cur) ? cur : '';
        if (fd) { cur = ''; has = false; raw = ''; }
        endWord();
        tokens.push({ op: fd + op });
        i += op.length - 1;
      } else {
        cur += ch; raw += ch; has = true;
      }
    }
  }
  endWord();
  return tokens;
}

// ---------- syntax ----------

interface Redir { op: string; target: Word }
type Node =
  | { t: 'simple'; assigns: Array<[string, Word]>; words: Word[]; redirs: Redir[] }
  | { t: 'list'; items: Node[] }
  | { t: 'andor'; first: Node; rest: Array<['&&' | '||', Node]> }
  | { t: 'not'; node: Node }
  | { t: 'loop'; until: boolean; cond: Node; body: Node }
  | { t: 'for'; name: string; items: Word[]; body: Node }
  | { t: 'if'; clauses: Array<[Node, Node]>; otherwise?: Node };

const RESERVED = new Set(['do', 'done', 'then', 'else', 'elif', 'fi', 'in', '}', 'esac']);
const UNSUPPORTED: Record<string, string> = {
  case: '`case ... esac`', function: 'shell functions', select: '`select`', '{': '`{ ...; }` groups',
  '[[': '`[[ ... ]]` (write [ ... ])',
};

class Parser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  private peek(): Token | undefined { return this.toks[this.i]; }
  private isOp(v: string): boolean { const t = this.peek(); return !!t && 'op' in t && t.op === v; }
  private isWord(v: string): boolean { const t = this.peek(); return !!t && 'w' in t && t.raw === v; }
  private skipNewlines(): void { while (this.isOp('\n') || this.isOp(';')) this.i++; }
  private expectWord(v: string): void {
    if (!this.isWord(v)) throw new ShellUnsupported(`a script it cannot read (expected "${v}" near ${this.near()})`);
    this.i++;
  }
  private near(): string {
    const t = this.peek();
    return t ? ('op' in t ? JSON.stringify(t.op) : JSON.stringify(t.raw)) : 'the end';
  }

  parseScript(): Node {
    const node = this.list(() => this.i >= this.toks.length);
    if (this.i < this.toks.length) throw new ShellUnsupported(`a script it cannot read (near ${this.near()})`);
    return node;
  }

  /** Statements until `stop` says so (a reserved word such as done, or the end). */
  private list(stop: () => boolean): Node {
    const items: Node[] = [];
    this.skipNewlines();
    while (this.i < this.toks.length && !stop()) {
      items.push(this.andOr());
      if (this.isOp('&')) throw new ShellUnsupported('background jobs (`&`)');
      if (this.isOp(';') || this.isOp('\n')) this.skipNewlines();
      else if (this.i < this.toks.length && !stop()) throw new ShellUnsupported(`a script it cannot read (near ${this.near()})`);
    }
    return { t: 'list', items };
  }

  private andOr(): Node {
    const first = this.pipeline();
    const rest: Array<['&&' | '||', Node]> = [];
    while (this.isOp('&&') || this.isOp('||')) {
      const op = (this.toks[this.i++] as { op: '&&' | '||' }).op;
      while (this.isOp('\n')) this.i++;
      rest.push([op, this.pipeline()]);
    }
    return rest.length ? { t: 'andor', first, rest } : first;
  }

  private pipeline(): Node {
    if (this.isWord('!')) { this.i++; return { t: 'not', node: this.pipeline() }; }
    const node = this.command();
    if (this.isOp('|')) throw new ShellUnsupported('pipes (`|`)');
    return node;
  }

  private command(): Node {
    const t = this.peek();
    if (!t) throw new ShellUnsupported('a script it cannot read (it ends too early)');
    if ('op' in t) {
      if (t.op === '(') throw new ShellUnsupported('subshells (`( ... )`)');
      throw new ShellUnsupported(`a script it cannot read (near ${this.near()})`);
    }
    const word = t.raw;
    if (UNSUPPORTED[word]) throw new ShellUnsupported(UNSUPPORTED[word]!);
    if (word === 'while' || word === 'until') {
      this.i++;
      const cond = this.list(() => this.isWord('do'));
      this.expectWord('do');
      const body = this.list(() => this.isWord('done'));
      this.expectWord('done');
      return { t: 'loop', until: word === 'until', cond, body };
    }
    if (word === 'for') {
      this.i++;
      const nameTok = this.peek();
      if (!nameTok || !('w' in nameTok) || !/^[A-Za-z_]\w*$/.test(nameTok.raw)) throw new ShellUnsupported('a `for` loop it cannot read');
      this.i++;
      const items: Word[] = [];
      if (this.isWord('in')) {
        this.i++;
        for (let n = this.peek(); n && 'w' in n; n = this.peek()) { items.push(n.w); this.i++; }
      } else {
        throw new ShellUnsupported('`for NAME` without `in` (the positional parameters)');
      }
      this.skipNewlines();
      this.expectWord('do');
      const body = this.list(() => this.isWord('done'));
      this.expectWord('done');
      return { t: 'for', name: nameTok.raw, items, body };
    }
    if (word === 'if') {
      this.i++;
      const clauses: Array<[Node, Node]> = [];
      let otherwise: Node | undefined;
      for (;;) {
        const cond = this.list(() => this.isWord('then'));
        this.expectWord('then');
        const body = this.list(() => this.isWord('elif') || this.isWord('else') || this.isWord('fi'));
        clauses.push([cond, body]);
        if (this.isWord('elif')) { this.i++; continue; }
        if (this.isWord('else')) { this.i++; otherwise = this.list(() => this.isWord('fi')); }
        this.expectWord('fi');
        return { t: 'if', clauses, otherwise };
      }
    }
    return this.simple();
  }

  private simple(): Node {
    const assigns: Array<[string, Word]> = [];
    const words: Word[] = [];
    const redirs: Redir[] = [];
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if ('op' in t) {
        if (t.op === '<<') throw new ShellUnsupported('here-documents (`<<`)');
        if (t.op === '<') throw new ShellUnsupported('input redirection (`<`)');
        if (/^[0-9]?(>|>>|>&)$/.test(t.op)) {
          this.i++;
          const target = this.peek();
          if (!target || !('w' in target)) throw new ShellUnsupported(`a redirection it cannot read (${t.op})`);
          this.i++;
          redirs.push({ op: t.op, target: target.w });
          continue;
        }
        if (t.op === '(' && words.length === 1) throw new ShellUnsupported('shell functions');
        break;
      }
      if (words.length === 0 && RESERVED.has(t.raw)) break;
      const assign = words.length === 0 ? /^([A-Za-z_]\w*)=/.exec(t.raw) : null;
      if (assign && 'exp' in (t.w[0] ?? {})) {
        // NAME=value: drop "NAME=" from the first part
        const [head, ...tail] = t.w as Part[];
        const rest = (head as { exp: string; quoted: boolean }).exp.slice(assign[0].length);
        assigns.push([assign[1]!, [...(rest ? [{ exp: rest, quoted: false }] : []), ...tail]]);
      } else {
        words.push(t.w);
      }
      this.i++;
    }
    if (!words.length && !assigns.length && !redirs.length) throw new ShellUnsupported(`a script it cannot read (near ${this.near()})`);
    return { t: 'simple', assigns, words, redirs };
  }
}

/** Parses a script; throws ShellUnsupported for what the sim does not play. */
export function parseScript(src: string): Node {
  return new Parser(tokenize(src)).parseScript();
}

/** A command given as argv (no shell): one simple command of literal words. */
export function argvNode(argv: string[]): Node {
  return { t: 'simple', assigns: [], words: argv.map((a) => [{ lit: a }]), redirs: [] };
}

// ---------- playing ----------

class Exit { constructor(readonly code: number) {} }
class Break { constructor(readonly n: number) {} }
class Continue { constructor(readonly n: number) {} }

/** Plays a script. Returns the exit status; never returns after yielding 'forever'. */
export function* play(node: Node, ctx: ShellContext): Generator<Effect, number> {
  try {
    return yield* exec(node, ctx);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof Break || e instanceof Continue) return 0;
    throw e;
  }
}

function* exec(node: Node, ctx: ShellContext): Generator<Effect, number> {
  switch (node.t) {
    case 'list': {
      let code = 0;
      for (const item of node.items) code = yield* exec(item, ctx);
      ctx.lastCode = code;
      return code;
    }
    case 'andor': {
      let code = yield* exec(node.first, ctx);
      for (const [op, next] of node.rest) {
        if ((op === '&&') === (code === 0)) code = yield* exec(next, ctx);
      }
      return (ctx.lastCode = code);
    }
    case 'not': {
      const code = yield* exec(node.node, ctx);
      return (ctx.lastCode = code === 0 ? 1 : 0);
    }
    case 'if': {
      for (const [cond, body] of node.clauses) {
        if ((yield* exec(cond, ctx)) === 0) return yield* exec(body, ctx);
      }
      return node.otherwise ? yield* exec(node.otherwise, ctx) : (ctx.lastCode = 0);
    }
    case 'loop':
    case 'for': {
      let code = 0;
      const items = node.t === 'for' ? node.items.flatMap((w) => expandWord(w, ctx)) : [];
      for (let n = 0; ; n++) {
        if (node.t === 'for') {
          if (n >= items.length) break;
          ctx.vars.set(node.name, items[n]!);
        } else {
          const c = yield* exec(node.cond, ctx);
          if ((c === 0) === node.until) break;
        }
        let slept = false;
        try {
          for (const effect of exec(node.body, ctx) as Generator<Effect, number>) {
            if (effect.k === 'sleep' && effect.ms > 0) slept = true;
            yield effect;
          }
          code = ctx.lastCode;
        } catch (e) {
          if (e instanceof Break) { if (e.n > 1) throw new Break(e.n - 1); break; }
          if (e instanceof Continue) { if (e.n > 1) throw new Continue(e.n - 1); } else throw e;
        }
        if (!slept && node.t === 'loop') yield { k: 'sleep', ms: TIGHT_LOOP_MS };
      }
      return (ctx.lastCode = code);
    }
    case 'simple':
      return (ctx.lastCode = yield* simple(node, ctx));
  }
}

function* simple(node: Extract<Node, { t: 'simple' }>, ctx: ShellContext): Generator<Effect, number> {
  const words = node.words.flatMap((w) => expandWord(w, ctx));
  if (!words.length) {
    for (const [name, value] of node.assigns) ctx.vars.set(name, expandWord(value, ctx, false).join(' '));
    return 0;
  }
  // NAME=value cmd: the assignment is for the command only; the sim does not tell them apart.
  for (const [name, value] of node.assigns) ctx.vars.set(name, expandWord(value, ctx, false).join(' '));
  // Where stdout and stderr go: the log, nowhere (/dev/null), or a file of the script.
  let out: 'stdout' | 'stderr' | 'null' | { file: string; append: boolean } = 'stdout';
  let err: 'stdout' | 'stderr' | 'null' = 'stderr';
  for (const r of node.redirs) {
    const target = expandWord(r.target, ctx, false).join(' ');
    const fd = /^[0-9]/.test(r.op) ? r.op[0] : '1';
    const kind = r.op.replace(/^[0-9]/, '');
    if (kind === '>&') {
      const to = target === '1' ? 'stdout' : target === '2' ? 'stderr' : undefined;
      if (!to) throw new ShellUnsupported(`the redirection ${r.op}${target}`);
      if (fd === '1') out = to; else if (fd === '2') err = to === 'stdout' && typeof out === 'string' ? out as 'stdout' : to;
    } else if (target === '/dev/null') {
      if (fd === '1') out = 'null'; else err = 'null';
    } else if (fd === '1') {
      out = { file: target, append: kind === '>>' };
      if (kind === '>') ctx.files.set(target, '');
    } else {
      err = 'null'; // 2>file: kept nowhere
    }
  }
  const emit = (stream: 'stdout' | 'stderr', text: string): Effect | undefined => {
    const to = stream === 'stdout' ? out : err;
    if (to === 'null') return undefined;
    if (typeof to === 'object') { ctx.files.set(to.file, `${ctx.files.get(to.file) ?? ''}${text}\n`); return undefined; }
    return { k: 'out', stream: to, text };
  };
  const say = function* (stream: 'stdout' | 'stderr', text: string): Generator<Effect, void> {
    for (const line of text.split('\n')) { const e = emit(stream, line); if (e) yield e; }
  };
  return yield* command(words, ctx, say);
}

type Say = (stream: 'stdout' | 'stderr', text: string) => Generator<Effect, void>;

function* command(words: string[], ctx: ShellContext, say: Say): Generator<Effect, number> {
  const [cmd0 = '', ...args] = words;
  const cmd = cmd0.includes('/') ? basename(cmd0) : cmd0;
  switch (cmd) {
    case 'echo': {
      let rest = args;
      while (rest[0] === '-n' || rest[0] === '-e' || rest[0] === '-ne' || rest[0] === '-en') rest = rest.slice(1);
      const text = rest.join(' ');
      yield* say('stdout', args.some((a) => a.includes('e') && a.startsWith('-')) ? unescape(text) : text);
      return 0;
    }
    case 'printf': {
      const text = printf(args[0] ?? '', args.slice(1));
      if (text) yield* say('stdout', text.replace(/\n$/, ''));
      return 0;
    }
    case 'sleep': {
      const ms = durationMs(args[0] ?? '');
      if (ms === undefined) { yield* say('stderr', `sleep: invalid number '${args[0] ?? ''}'`); return 1; }
      if (ms === Infinity) { yield { k: 'forever' }; return 0; }
      yield { k: 'sleep', ms };
      return 0;
    }
    case 'exit': throw new Exit(args[0] === undefined ? ctx.lastCode : exitCodeOf(args[0]));
    case 'true': case ':': case 'cd': case 'wait': case 'export': case 'mkdir': case 'sync': case 'readonly': case 'local':
      return 0;
    case 'false': return 1;
    case 'trap': yield { k: 'trap' }; return 0;
    case 'break': throw new Break(Math.max(1, Number(args[0] ?? 1) || 1));
    case 'continue': throw new Continue(Math.max(1, Number(args[0] ?? 1) || 1));
    case 'unset': for (const a of args) ctx.vars.delete(a); return 0;
    case 'hostname': yield* say('stdout', ctx.hostname); return 0;
    case 'date': yield* say('stdout', new Date().toUTCString().replace('GMT', 'UTC')); return 0;
    case 'pwd': yield* say('stdout', '/'); return 0;
    case 'whoami': yield* say('stdout', 'root'); return 0;
    case 'uname': yield* say('stdout', 'Linux'); return 0;
    case 'env': case 'printenv': {
      if (cmd === 'printenv' && args[0]) {
        const v = ctx.vars.get(args[0]);
        if (v === undefined) return 1;
        yield* say('stdout', v);
        return 0;
      }
      for (const [k, v] of ctx.vars) yield* say('stdout', `${k}=${v}`);
      return 0;
    }
    case 'touch': for (const a of args) if (!ctx.files.has(a)) ctx.files.set(a, ''); return 0;
    case 'rm': for (const a of args) if (!a.startsWith('-')) ctx.files.delete(a); return 0;
    case 'cat': {
      let code = 0;
      for (const a of args) {
        const content = ctx.files.get(a);
        if (content !== undefined) { if (content) yield* say('stdout', content.replace(/\n$/, '')); } else if (ctx.mode === 'process') {
          yield* say('stderr', `cat: can't open '${a}': No such file or directory (the simulated runtime only knows files its script wrote)`);
          code = 1;
        }
      }
      return code;
    }
    case 'test': case '[': {
      const rest = cmd === '[' ? (args[args.length - 1] === ']' ? args.slice(0, -1) : undefined) : args;
      if (!rest) { yield* say('stderr', 'sh: [: missing ]'); return 2; }
      return testExpr(rest, ctx) ? 0 : 1;
    }
    case 'exec': {
      if (!args.length) return 0;
      throw new Exit(yield* command(args, ctx, say));
    }
    case 'sh': case 'bash': case 'ash': case 'dash':
      if (args[0] === '-c') return yield* play(parseScript(args[1] ?? ''), ctx);
      break;
  }
  if (ctx.mode === 'exec') return 0;
  yield* say('stderr', `sim-runtime: "${cmd0}" is not a program the simulated runtime plays; it stands for a long-running process (no output) and runs until stopped`);
  yield { k: 'forever' };
  return 0;
}

// ---------- expansion ----------

/** Expands $VAR, ${VAR}, ${VAR:-x}, $?, $((arith)) and $(cmd); unquoted results are split on
 * blanks (split=false: assignments and redirection targets). No globbing. */
function expandWord(word: Word, ctx: ShellContext, split = true): string[] {
  const fields: Array<{ s: string; real: boolean }> = [{ s: '', real: false }];
  const last = () => fields[fields.length - 1]!;
  for (const part of word) {
    if ('lit' in part) { last().s += part.lit; last().real = true; continue; }
    const text = expandText(part.exp, ctx);
    if (part.quoted || !split) { last().s += text; last().real = true; continue; }
    text.split(/[ \t\n]+/).forEach((piece, i) => {
      if (i > 0) fields.push({ s: '', real: false });
      last().s += piece;
    });
  }
  return fields.filter((f) => f.real || f.s !== '').map((f) => f.s);
}

function expandText(s: string, ctx: ShellContext): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '$') { out += ch; continue; }
    if (s.startsWith('$((', i)) {
      const end = s.indexOf('))', i);
      if (end < 0) throw new ShellUnsupported('an unterminated $(( ... ))');
      out += String(arith(s.slice(i + 3, end), ctx));
      i = end + 1;
    } else if (s[i + 1] === '(') {
      let depth = 0, j = i + 1;
      for (; j < s.length; j++) { if (s[j] === '(') depth++; else if (s[j] === ')' && --depth === 0) break; }
      out += substitute(s.slice(i + 2, j), ctx);
      i = j;
    } else if (s[i + 1] === '{') {
      const end = s.indexOf('}', i);
      if (end < 0) throw new ShellUnsupported('an unterminated ${...}');
      const m = /^([A-Za-z_]\w*)(?:(:?[-=+])(.*))?$/.exec(s.slice(i + 2, end));
      if (!m) throw new ShellUnsupported(`the expansion \${${s.slice(i + 2, end)}}`);
      const v = ctx.vars.get(m[1]!);
      const empty = m[2]?.startsWith(':') ? !v : v === undefined;
      if (!m[2]) out += v ?? '';
      else if (m[2].endsWith('-')) out += empty ? expandText(m[3]!, ctx) : v;
      else if (m[2].endsWith('=')) { if (empty) ctx.vars.set(m[1]!, expandText(m[3]!, ctx)); out += ctx.vars.get(m[1]!); }
      else out += empty ? '' : expandText(m[3]!, ctx);
      i = end;
    } else if (s[i + 1] === '?') { out += String(ctx.lastCode); i++; }
    else if (s[i + 1] === '$') { out += '1'; i++; }
    else {
      const m = /^[A-Za-z_]\w*/.exec(s.slice(i + 1));
      if (m) { out += ctx.vars.get(m[0]) ?? ''; i += m[0].length; } else if (/^[0-9#@*!-]/.test(s[i + 1] ?? '')) { i++; } else out += '$';
    }
  }
  return out;
}

/** $(cmd): played at once; its output (without trailing newlines) is the value. */
function substitute(script: string, ctx: ShellContext): string {
  const sub: ShellContext = { ...ctx, vars: new Map(ctx.vars), mode: 'exec' };
  const lines: string[] = [];
  runAtOnce(parseScript(script), sub, (e) => { if (e.k === 'out' && e.stream === 'stdout') lines.push(e.text); });
  ctx.lastCode = sub.lastCode;
  return lines.join('\n');
}

/** Plays a script synchronously (ExecSync, $(...)): sleeps only add up; a loop that does not
 * end within 10000 effects is cut off. Returns the exit status, undefined if it runs forever. */
export function runAtOnce(node: Node, ctx: ShellContext, onEffect: (e: Effect) => void): { code?: number; sleptMs: number } {
  const gen = play(node, ctx);
  let sleptMs = 0;
  for (let n = 0; n < 10_000; n++) {
    const r = gen.next();
    if (r.done) return { code: r.value, sleptMs };
    if (r.value.k === 'forever') return { sleptMs };
    if (r.value.k === 'sleep') sleptMs += r.value.ms;
    onEffect(r.value);
  }
  onEffect({ k: 'out', stream: 'stderr', text: 'sim-runtime: stopped a loop that ran 10000 steps without ending' });
  return { code: 137, sleptMs };
}

function arith(expr: string, ctx: ShellContext): number {
  const tokens = expr.match(/\d+|[A-Za-z_]\w*|\$[A-Za-z_]\w*|==|!=|<=|>=|&&|\|\||[-+*/%()<>!]/g) ?? [];
  let i = 0;
  const prim = (): number => {
    const t = tokens[i++];
    if (t === undefined) throw new ShellUnsupported(`the arithmetic $((${expr}))`);
    if (t === '(') { const v = cmp(); i++; return v; }
    if (t === '-') return -prim();
    if (t === '!') return prim() ? 0 : 1;
    if (/^\d+$/.test(t)) return Number(t);
    return Number.parseInt(ctx.vars.get(t.replace(/^\$/, '')) ?? '0', 10) || 0;
  };
  const mul = (): number => {
    let v = prim();
    while (['*', '/', '%'].includes(tokens[i] ?? '')) {
      const op = tokens[i++]; const r = prim();
      if (op !== '*' && r === 0) throw new ShellUnsupported('division by zero');
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const add = (): number => {
    let v = mul();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + mul() : v - mul();
    return v;
  };
  const cmp = (): number => {
    const v = add();
    const op = tokens[i];
    if (!op || !['<', '>', '<=', '>=', '==', '!='].includes(op)) return v;
    i++;
    const r = add();
    return Number(op === '<' ? v < r : op === '>' ? v > r : op === '<=' ? v <= r : op === '>=' ? v >= r : op === '==' ? v === r : v !== r);
  };
  const v = cmp();
  if (i < tokens.length) throw new ShellUnsupported(`the arithmetic $((${expr}))`);
  return v;
}

function testExpr(args: string[], ctx: ShellContext): boolean {
  if (args[0] === '!') return !testExpr(args.slice(1), ctx);
  if (args.length === 0) return false;
  if (args.length === 1) return args[0] !== '';
  if (args.length === 2) {
    const [op, a = ''] = args;
    if (op === '-n') return a !== '';
    if (op === '-z') return a === '';
    if (op === '-f' || op === '-e' || op === '-s' || op === '-r') return ctx.mode === 'exec' || ctx.files.has(a);
    if (op === '-d') return ctx.mode === 'exec' || a === '/' || a === '/tmp';
    throw new ShellUnsupported(`the test [ ${args.join(' ')} ]`);
  }
  if (args.length === 3) {
    const [a = '', op, b = ''] = args;
    const n = (x: string) => { const v = Number.parseInt(x, 10); if (Number.isNaN(v)) throw new ShellUnsupported(`[ ${args.join(' ')} ] (not a number)`); return v; };
    switch (op) {
      case '=': case '==': return a === b;
      case '!=': return a !== b;
      case '-eq': return n(a) === n(b);
      case '-ne': return n(a) !== n(b);
      case '-lt': return n(a) < n(b);
      case '-le': return n(a) <= n(b);
      case '-gt': return n(a) > n(b);
      case '-ge': return n(a) >= n(b);
    }
  }
  throw new ShellUnsupported(`the test [ ${args.join(' ')} ] (it plays one comparison: = != -eq -ne -lt -le -gt -ge, -n -z -f -e -d, and !)`);
}

/** sleep's argument: seconds, with an optional s/m/h/d suffix; "infinity" → Infinity. */
function durationMs(word: string): number | undefined {
  if (word === 'infinity' || word === 'inf') return Infinity;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(word);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

export function exitCodeOf(word: string): number {
  const n = Number.parseInt(word, 10);
  return Number.isNaN(n) ? 2 : ((n % 256) + 256) % 256; // the shell keeps the low 8 bits
}

function unescape(s: string): string {
  return s.replace(/\\([nt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

function printf(format: string, args: string[]): string {
  let k = 0;
  const once = () => unescape(format).replace(/%([sd%])/g, (_, c: string) => (c === '%' ? '%' : c === 'd' ? String(Number.parseInt(args[k++] ?? '0', 10) || 0) : (args[k++] ?? '')));
  let out = once();
  while (k > 0 && k < args.length) out += once(); // printf reuses its format for extra arguments
  return out;
}
