// mailparser ships no types and there is no @types package for 3.x: the little the SMTP sink reads.
declare module 'mailparser' {
  import type { Readable } from 'node:stream';

  export interface EmailAddress {
    address?: string;
    name: string;
  }
  export interface AddressObject {
    value: EmailAddress[];
    text: string;
    html: string;
  }
  export interface ParsedMail {
    subject?: string;
    from?: AddressObject;
    to?: AddressObject | AddressObject[];
    html: string | false;
    text?: string;
    headers: Map<string, unknown>;
  }
  export function simpleParser(source: Readable | Buffer | string, options?: Record<string, unknown>): Promise<ParsedMail>;
}
