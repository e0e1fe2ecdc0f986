// metadata.labels as kube-apiserver's ObjectMeta validation checks them, for every kind: each key a
// qualified name (an optional DNS-1123 subdomain prefix and "/", then a name part of at most 63
// alphanumerics, '-', '_' or '.'), each value empty or a name part. Every problem is reported at
// metadata.labels itself, with the offending key or value as the value.
import type { FieldError } from './errors.ts';
import { dnsSubdomainProblems } from './names.ts';

const namePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const NAME_PART_RULE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const QUALIFIED_NAME_RULE = `a qualified name ${NAME_PART_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
const LABEL_VALUE_RULE = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Why key is no qualified name (IsQualifiedName's messages), empty when it is one. */
export function qualifiedNameProblems(key: string): string[] {
  const parts = key.split('/');
  if (parts.length > 2) return [QUALIFIED_NAME_RULE];
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const problems: string[] = [];
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') problems.push('prefix part must be non-empty');
    else problems.push(...dnsSubdomainProblems(prefix).map((m) => `prefix part ${m}`));
  }
  if (name === '') problems.push('name part must be non-empty');
  else if (name.length > 63) problems.push('name part must be no more than 63 characters');
  if (!namePart.test(name)) problems.push(`name part ${NAME_PART_RULE}`);
  return problems;
}

/** Why value is no label value (IsValidLabelValue's messages), empty when it is one. */
export function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (value !== '' && !namePart.test(value)) problems.push(LABEL_VALUE_RULE);
  return problems;
}

/** The errors of a labels map under path (metadata.labels, or template.metadata.labels). */
export function labelErrors(labels: unknown, path: string): FieldError[] {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return [];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    for (const detail of qualifiedNameProblems(key)) errors.push({ type: 'Invalid', field: path, value: key, detail });
    for (const detail of labelValueProblems(String(value ?? ''))) errors.push({ type: 'Invalid', field: path, value, detail });
  }
  return errors;
}
