/** Dapr's method path rules: reject `#`, `?`, NUL and control characters; resolve dot segments so a call never climbs above the app's root. */
export function normaliseMethod(method: string): string | undefined {
  if (/[#?\u0000-\u001f\u007f]/.test(method)) return undefined;
  const out: string[] = [];
  for (const seg of method.split("/")) {
    if (seg === "." || (seg === "" && out.length === 0)) continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return out.join("/");
}
