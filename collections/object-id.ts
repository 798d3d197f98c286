/**
 * Generated document ids: 26-character, time-ordered, unique strings (the ULID layout): 10
 * Crockford base-32 characters of the millisecond timestamp, then 16 of randomness. Within one
 * millisecond the random part is incremented, so ids a process generates sort in creation order
 * (as byte strings, which is how the engine orders document keys), and a burst of inserts lands in
 * one region of the keyspace instead of scattering.
 */
import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_CHARS = 16;

const CODES = Array.from(ALPHABET, (ch) => ch.charCodeAt(0));

let lastTime = -1;
/** The 10 time characters of the last id, for the millisecond `prefixTime`. */
let prefixTime = -1;
let timePrefix = "";
const random = new Uint8Array(RANDOM_CHARS); // One base-32 digit (0..31) per byte.

function incrementRandom(): boolean {
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    if (random[i]! < 31) {
      random[i]!++;
      return true;
    }
    random[i] = 0;
  }
  return false;
}

/** A new unique, time-ordered id. */
export function generateId(now = Date.now()): string {
  if (now <= lastTime) {
    // Same (or a clock that went back) millisecond: stay monotonic.
    if (!incrementRandom()) lastTime++;
    now = lastTime;
  } else {
    lastTime = now;
    randomFillSync(random);
    for (let i = 0; i < RANDOM_CHARS; i++) random[i]! &= 31;
    random[0]! &= 15; // Headroom so increments within a millisecond never overflow in practice.
  }
  if (now !== prefixTime) {
    let t = now;
    let prefix = "";
    for (let i = 0; i < 10; i++) {
      prefix = ALPHABET[t % 32]! + prefix;
      t = Math.floor(t / 32);
    }
    prefixTime = now;
    timePrefix = prefix;
  }
  // One string of the 16 random characters at once: appending them one by one built 16
  // intermediate strings per id (most of the ~700 bytes an id used to allocate).
  const r = random;
  const c = CODES;
  return (
    timePrefix +
    String.fromCharCode(
      c[r[0]!]!, c[r[1]!]!, c[r[2]!]!, c[r[3]!]!, c[r[4]!]!, c[r[5]!]!, c[r[6]!]!, c[r[7]!]!,
      c[r[8]!]!, c[r[9]!]!, c[r[10]!]!, c[r[11]!]!, c[r[12]!]!, c[r[13]!]!, c[r[14]!]!, c[r[15]!]!,
    )
  );
}
