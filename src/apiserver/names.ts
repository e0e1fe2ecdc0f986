// Object name rules (DNS-1123 subdomain / label) and generateName suffixes, as kube-apiserver.
import { randomInt } from 'node:crypto';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const DNS_SUBDOMAIN_MESSAGE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** Why name is not a valid object name, or undefined when it is. */
export function nameProblem(name: string, labelOnly: boolean): string | undefined {
  if (labelOnly) {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (!dnsLabel.test(name)) {
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    }
    return undefined;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  if (!dnsSubdomain.test(name)) return DNS_SUBDOMAIN_MESSAGE;
  return undefined;
}

const DNS_LABEL_MESSAGE = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Every reason value is no DNS-1123 label (too long, and/or badly formed), as IsDNS1123Label lists them. */
export function dnsLabelProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push('must be no more than 63 characters');
  if (!dnsLabel.test(value)) problems.push(DNS_LABEL_MESSAGE);
  return problems;
}

/** Every reason value is no DNS-1123 subdomain, as IsDNS1123Subdomain lists them. */
export function dnsSubdomainProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 253) problems.push('must be no more than 253 characters');
  if (!dnsSubdomain.test(value)) problems.push(DNS_SUBDOMAIN_MESSAGE);
  return problems;
}

// The alphabet kube uses for generated names: no vowels, no look-alike characters.
const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[randomInt(alphabet.length)];
  return `${prefix.slice(0, 58)}${suffix}`;
}

/** Why name is not a valid path segment (the only rule for RBAC objects' and CSRs' names), or undefined. */
export function pathSegmentNameProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return `may not be '${name}'`;
  for (const c of ['/', '%']) if (name.includes(c)) return `may not contain '${c}'`;
  return undefined;
}
