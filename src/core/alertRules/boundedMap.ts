/**
 * A map that holds at most `cap` keys: writing a key makes it the newest, and
 * a write past the cap drops the oldest. Iteration runs oldest first, so the
 * state of a map is its entry list in that order (what snapshots keep).
 */
export class BoundedMap<K, V> {
  readonly #map = new Map<K, V>();
  readonly #cap: number;
  #dropped = 0;

  /** `cap`: the most keys held (at least 1). */
  constructor(cap: number) {
    if (!Number.isSafeInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer: ${cap}`);
    this.#cap = cap;
  }

  /** The value of `key`, if held. */
  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` as the newest entry; drops the oldest entries past the cap. */
  put(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    for (const oldest of this.#map.keys()) {
      if (this.#map.size <= this.#cap) break;
      this.#map.delete(oldest);
      this.#dropped++;
    }
  }

  /** Removes `key`; whether it was held. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Number of keys held. */
  get size(): number {
    return this.#map.size;
  }

  /** Keys dropped for the cap since this map was made (not kept in snapshots). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Entries, oldest first. Deleting the current entry while iterating is safe (Map semantics). */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }
}
