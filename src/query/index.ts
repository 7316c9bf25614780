export { compileCondition, compileScalar, ruleCondition, invalidFilter, MAX_COMPARISONS, MAX_RELATION_HOPS, type CompileContext } from './compile.js';
export { compileSort, MAX_SORT_FIELDS } from './sort.js';
export { queryDialect, constant, type QueryDialect, type ValueExpr, type Kind } from './dialect.js';
export { AliasCounter, JoinSet } from './joins.js';
export { fieldAccess, findField, hasNocaseUniqueIndex, hasUniqueIndex, type FieldAccess } from './fields.js';
export { fmt, ident, inList, joinSql, sql, type Sql } from './sql.js';
