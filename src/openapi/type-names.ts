/**
 * Unique identifiers for generated types and schema components. Collection and field names are
 * `\w+`, so two of them can PascalCase to the same word (`my_post`, `myPost`); the later one gets
 * a number. Every name is a valid TypeScript identifier and OpenAPI component key.
 */
export class TypeNames {
  private readonly taken = new Set<string>();

  /** `my_posts` → `MyPosts`; `_superusers` → `Superusers`; a leading digit gets a `C` in front. */
  pascal(name: string): string {
    const words = name.split(/_+/).filter((w) => w !== '');
    const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Collection';
    return /^\d/.test(joined) ? `C${joined}` : joined;
  }

  /** `base`, or `base2`, `base3`, … when it is taken (compared ignoring case, for file systems and readers). */
  claim(base: string): string {
    let name = base;
    for (let n = 2; this.taken.has(name.toLowerCase()); n++) name = `${base}${n}`;
    this.taken.add(name.toLowerCase());
    return name;
  }
}
