/**
 * URLs are never written whole to a timeline or a log: paths and queries carry tokens (a Slack
 * webhook's path is its credential), user info carries passwords, and a URL that does not even parse
 * may be anything. What is shown is the scheme, the user name and the host.
 */

/**
 * `scheme://user:***@host:port/…?…#…`: the password replaced by `***`, the path, query and fragment
 * by `…` (only whether there was one is shown); `[invalid URL]` when it does not parse. Safe to log.
 */
export function redactUrl(url: string): string {
  // Greedy up to the last `@` first, so a password containing `@` or `/` is covered too.
  const withoutPassword = url.replace(/\/\/([^/?#@:]*):.*@/, '//$1:***@');
  let u: URL;
  try {
    u = new URL(withoutPassword);
  } catch {
    return '[invalid URL]';
  }
  if (!u.host) return `${u.protocol}[redacted]`;
  const user = u.username ? `${u.username}${u.password ? ':***' : ''}@` : '';
  const rest = (u.pathname && u.pathname !== '/' ? '/…' : '') + (u.search ? '?…' : '') + (u.hash ? '#…' : '');
  return `${u.protocol}//${user}${u.host}${rest}`;
}

// Anything that starts like a URL, up to the next space or quote.
const urlLike = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/**
 * The text with every URL in it redacted (`redactUrl`). fetch's "Failed to parse URL from <input>"
 * loses its input (a malformed URL may contain spaces, so the rest of that message goes too).
 */
export function redactUrls(text: string): string {
  return text
    .replace(/(Failed to parse URL)( from)?[^\n]*/g, '$1')
    .replace(/(Invalid URL)(: )?[^\n]*/g, '$1')
    .replace(urlLike, (m) => {
      // A sentence's full stop or a closing bracket after the URL stays.
      const tail = /[.,;:)\]]+$/.exec(m)?.[0] ?? '';
      return redactUrl(m.slice(0, m.length - tail.length)) + tail;
    });
}
