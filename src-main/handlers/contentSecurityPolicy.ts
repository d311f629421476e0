/** One policy for both transports: nothing but the app's own origin (and tiles) is reachable. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // OpenSeadragon and Svelte set element styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: slide:",
  "connect-src 'self' slide:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
