/**
 * The command line's grammar: `--flag value`, `--flag=value`, boolean
 * `--flag`, `--` before words that start with a dash, and everything else
 * positional. Anything it cannot read is a UsageError (exit status 2).
 */

/** Bad usage: an unknown command or flag, a missing or unparsable value. The CLI exits 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface FlagSpec {
  /** Without the dashes: "older-than". */
  name: string;
  /** What the value looks like in help ("DURATION"); absent for a boolean flag. */
  value?: string;
  help: string;
}

export interface ParsedArgs {
  positionals: string[];
  /** Each given flag's value; `true` for a boolean one. */
  flags: Map<string, string | true>;
}

/** Reads `argv` against `flags`; `-h` is `--help`. Throws UsageError naming the problem. */
export function parseArgs(argv: readonly string[], flags: readonly FlagSpec[], command: string): ParsedArgs {
  const known = new Map(flags.map((f) => [f.name, f]));
  const positionals: string[] = [];
  const given = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (word === "-h") {
      given.set("help", true);
      continue;
    }
    if (!word.startsWith("-") || word === "-") {
      positionals.push(word);
      continue;
    }
    if (!word.startsWith("--")) throw new UsageError(`unknown flag ${word} for ${command}`);
    const equals = word.indexOf("=");
    const name = word.slice(2, equals < 0 ? undefined : equals);
    const spec = known.get(name);
    if (!spec) throw new UsageError(`unknown flag --${name} for ${command}`);
    if (given.has(name)) throw new UsageError(`--${name} is given twice`);
    if (spec.value === undefined) {
      if (equals >= 0) throw new UsageError(`--${name} takes no value`);
      given.set(name, true);
    } else if (equals >= 0) {
      given.set(name, word.slice(equals + 1));
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value (${spec.value})`);
      given.set(name, argv[++i]!);
    }
  }
  return { positionals, flags: given };
}
