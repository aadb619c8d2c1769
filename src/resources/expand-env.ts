/** Go's `os.ExpandEnv`, which daprd applies to `--config` files before parsing them. */

function isShellSpecial(c: string): boolean {
  return "*#$@!?-".includes(c) || (c >= "0" && c <= "9");
}

function isAlphaNum(c: string): boolean {
  return c === "_" || (c >= "0" && c <= "9") || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

/** Go's `getShellName`: the variable name after `$` and how many characters it used. */
function shellName(s: string): [name: string, width: number] {
  if (s[0] === "{") {
    if (s.length > 2 && isShellSpecial(s[1] ?? "") && s[2] === "}") return [s.slice(1, 2), 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "}") return i === 1 ? ["", 2] : [s.slice(1, i), i + 1];
    }
    return ["", 1]; // "${" without "}": bad syntax, eat the "{"
  }
  if (s.length > 0 && isShellSpecial(s[0] ?? "")) return [s.slice(0, 1), 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i] ?? "")) i++;
  return [s.slice(0, i), i];
}

/**
 * Replace `$VAR` and `${VAR}` with values from `env`; unknown variables become "" and a `$` not
 * followed by a name stays, exactly as Go's `os.ExpandEnv`.
 * @example expandEnv("port: ${PORT}", { PORT: "80" }) // "port: 80"
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = "";
  let i = 0;
  for (let j = 0; j < text.length; j++) {
    if (text[j] === "$" && j + 1 < text.length) {
      out += text.slice(i, j);
      const [name, width] = shellName(text.slice(j + 1));
      if (name === "" && width > 0) {
        // Invalid syntax: the characters are eaten.
      } else if (name === "") {
        out += "$";
      } else {
        out += env[name] ?? "";
      }
      j += width;
      i = j + 1;
    }
  }
  return out + text.slice(i);
}
