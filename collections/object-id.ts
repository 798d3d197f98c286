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

let lastTime = -1;
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
  let out = "";
  let t = now;
  const time: string[] = new Array(10);
  for (let i = 9; i >= 0; i--) {
    time[i] = ALPHABET[t % 32]!;
    t = Math.floor(t / 32);
  }
  out = time.join("");
  for (let i = 0; i < RANDOM_CHARS; i++) out += ALPHABET[random[i]!]!;
  return out;
}
