/**
 * A server is named by its base URL (`http://host:port`, optionally with a path prefix behind a
 * proxy). `ws://` and `wss://` are accepted too. The socket lives at `<base>/v1/ws`.
 */

/** The HTTP base URL, without a trailing slash. */
export function httpBase(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new TypeError(`"${url}" is not a server URL: it needs a scheme, e.g. http://${url.replace(/^\/+/, '')} (https:// with TLS)`);
  }
  const u = new URL(url);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  else if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(`unsupported server URL ${url}: expected http(s):// or ws(s)://`);
  }
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '').replace(/\/v1\/ws$/, '');
}

export function apiUrl(url: string, path: string): string {
  return `${httpBase(url)}${path}`;
}

export function socketUrl(url: string): string {
  const u = new URL(apiUrl(url, '/v1/ws'));
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}
