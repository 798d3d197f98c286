/**
 * `_id`s for the peers that do not generate them the way an application would want: 16
 * characters, Crockford base-32, the millisecond time (10) then a process-wide counter (6). Like
 * lsmdoc's generated ids they sort in creation order, so every store gets the same key pattern.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
let counter = 0;

function base32(n: number, width: number): string {
  let s = "";
  for (let i = 0; i < width; i++) {
    s = ALPHABET[n % 32]! + s;
    n = Math.floor(n / 32);
  }
  return s;
}

export function newId(): string {
  return base32(Date.now(), 10) + base32(counter++ % 2 ** 30, 6);
}
