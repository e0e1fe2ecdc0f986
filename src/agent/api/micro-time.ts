// The API's MicroTime: RFC 3339 with exactly six fraction digits (kube-apiserver refuses any other
// count). client-node has no serializer for it and would send a Date as JavaScript prints it, with
// three, so the agent sends MicroTime fields as strings of the right form.
export function microTime(d: Date): Date {
  const text = d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  // client-node types MicroTime fields as Date; the string passes its serializer untouched.
  return text as unknown as Date;
}
