// Pod names, images, reasons and messages are the user's input: every string the HTML page
// shows goes through here, in text and in attribute values alike (quotes included), so a
// `<script>` in an annotation or an image name is shown, never run.
const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => entities[c]);
}
