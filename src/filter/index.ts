export type { Expr, ExprItem, Join, Operand, Operator } from './ast.js';
export { FilterSyntaxError } from './filter-syntax-error.js';
export { parseFilter } from './parser.js';
export { tokenize } from './tokenizer.js';
