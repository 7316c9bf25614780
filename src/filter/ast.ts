/** The filter language's syntax tree (PocketBase's fexpr). */
export type Operand =
  | { kind: 'identifier'; name: string }
  | { kind: 'text'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'function'; name: string; args: Operand[] };

export const OPERATORS = ['=', '!=', '>', '>=', '<', '<=', '~', '!~', '?=', '?!=', '?>', '?>=', '?<', '?<=', '?~', '?!~'] as const;
export type Operator = (typeof OPERATORS)[number];
export type Join = '&&' | '||';

export type Expr =
  | { kind: 'comparison'; left: Operand; op: Operator; right: Operand }
  | { kind: 'group'; items: ExprItem[] };

/** `join` is how this item attaches to the previous one; the first item has none. */
export interface ExprItem {
  join: Join | null;
  expr: Expr;
}
