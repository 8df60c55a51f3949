const counts = new Uint32Array(65536);

/** Shannon entropy of the characters of `value`, in bits per character. */
export function shannonEntropy(value: string): number {
  const n = value.length;
  if (n === 0) return 0;
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (counts[c]++ === 0) seen.push(c);
  }
  let bits = 0;
  for (const c of seen) {
    const p = counts[c]! / n;
    bits -= p * Math.log2(p);
    counts[c] = 0;
  }
  return bits;
}
