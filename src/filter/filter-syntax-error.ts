/** A filter or rule that does not parse; `pos` is the 0-based offset of the problem. */
export class FilterSyntaxError extends Error {
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(`${message} at position ${pos + 1}`);
    this.name = 'FilterSyntaxError';
    this.pos = pos;
  }
}
