/**
 * Lowest and highest stream id of one lane's decisions, and how many there
 * are: the range the commit script's per-lane XPENDING asks about. Only a
 * hint: an id outside the range (or badly formed) is checked on its own.
 */
export class StreamIdRange {
  count = 0;
  lo = "";
  hi = "";
  private loMs = 0;
  private loSeq = 0;
  private hiMs = 0;
  private hiSeq = 0;

  /** Widens the range to include `id` and counts it. */
  add(id: string): void {
    const dash = id.indexOf("-");
    const ms = dash < 0 ? Number(id) : Number(id.slice(0, dash));
    const seq = dash < 0 ? 0 : Number(id.slice(dash + 1));
    if (this.count++ === 0) {
      this.lo = this.hi = id;
      this.loMs = this.hiMs = ms;
      this.loSeq = this.hiSeq = seq;
      return;
    }
    if (ms < this.loMs || (ms === this.loMs && seq < this.loSeq)) {
      this.lo = id;
      this.loMs = ms;
      this.loSeq = seq;
    }
    if (ms > this.hiMs || (ms === this.hiMs && seq > this.hiSeq)) {
      this.hi = id;
      this.hiMs = ms;
      this.hiSeq = seq;
    }
  }
}
