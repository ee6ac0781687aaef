export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** Whether only this machine can reach it (127.0.0.0/8, ::1, localhost). */
  readonly loopback: boolean;
}

/** `PORT` (on 127.0.0.1), `HOST:PORT` or `[IPv6]:PORT` → where to listen; a string says what is wrong. */
export function parseListenAddress(text: string): ListenAddress | string {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d+)$/.exec(text.trim());
  if (!match) return 'expected PORT or HOST:PORT (e.g. 9464 or 127.0.0.1:9464)';
  const host = (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1');
  const port = Number(match[2]);
  if (!Number.isSafeInteger(port) || port > 65535) return `port ${match[2]} is not between 0 and 65535`;
  return { host, port, loopback: isLoopback(host) };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
