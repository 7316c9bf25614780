export { buildOpenApiDocument, openApiDocument, type DocumentOptions, type OpenApiDocument } from './document.js';
export { describeSchema, type ApiShape, type AuthShape, type CollectionShape, type ExpandShape, type FieldShape, type InputAccess, type Output } from './shape.js';
export { DATE_PATTERN } from './field-schemas.js';
