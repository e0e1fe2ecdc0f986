// When to renew a certificate, as the kubelet's certificate manager decides: at a random point
// between 70% and 90% of its lifetime, so that a fleet of nodes issued at once does not renew
// at once, and with time to retry before it expires.
export function rotationDeadline(notBefore: Date, notAfter: Date, random: number = Math.random()): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const fraction = 0.7 + 0.2 * Math.min(Math.max(random, 0), 1);
  return new Date(notBefore.getTime() + lifetime * fraction);
}
