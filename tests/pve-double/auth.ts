/**
 * Authentication as Proxmox does it.
 *
 *  - Tickets (pve-common src/PVE/Ticket.pm:55-110, pve-access-control src/PVE/AccessControl.pm:58,406-440):
 *    `PVE:<user>:<8 hex time>::<signature>`, stateless: any ticket whose signature verifies and whose age is
 *    within (-300 s, 7200 s) is valid, so every ticket ever issued stays valid for its lifetime. Proxmox signs with
 *    an RSA key (authkey.key); the double signs with HMAC-SHA256 under its own key: the *format and the rule* are
 *    Proxmox's, the signature primitive is simulated.
 *  - CSRF token (Ticket.pm:19-45): `<8 hex time>:<base64 HMAC-SHA256("<time>:<user>")>`, checked on every non-GET
 *    request made with a ticket (pve-manager PVE/HTTPServer.pm:123-130); failure is a 401
 *    `Permission denied - invalid csrf token`.
 *  - API tokens (`Authorization: PVEAPIToken=<user>@<realm>!<id>=<uuid>`, pve-http-server
 *    src/PVE/APIServer/AnyEvent.pm:1574-1600): the acting user is `<user>@<realm>!<id>`, no CSRF check
 *    (HTTPServer.pm:123-130).
 *  - Failures (HTTPServer.pm:85-110): no ticket: 401 `No ticket`; bad ticket or token: 401
 *    `Authentication failed!`. A bad login (pve-access-control src/PVE/API2/AccessControl.pm:305-310): 401
 *    `authentication failure`. Every 401 is delayed to 3 s after the request started (AnyEvent.pm:1034-1040,
 *    :1617); the delay is a parameter here so tests can shorten it.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const TICKET_LIFETIME = 7200; // AccessControl.pm:58
const AUTH_GRACE = 300; // $auth_graceperiod, AccessControl.pm

export class Auth {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  static newKey(): Buffer {
    return randomBytes(32);
  }

  private sign(text: string): string {
    return createHmac("sha256", this.key).update(text).digest("base64").replace(/=+$/, "");
  }

  private hexTime(): string {
    return this.now().toString(16).toUpperCase().padStart(8, "0");
  }

  private ageOk(hex: string): boolean {
    const age = this.now() - parseInt(hex, 16);
    return age > -AUTH_GRACE && age < TICKET_LIFETIME;
  }

  issueTicket(user: string): string {
    // uri_escape($data, ':') (Ticket.pm:55-70): only ':' is escaped.
    const plain = `PVE:${user.replace(/:/g, "%3A")}:${this.hexTime()}`;
    return `${plain}::${this.sign(plain)}`;
  }

  /** The user of a valid ticket, or undefined (verify_rsa_ticket, Ticket.pm:80-110). */
  verifyTicket(ticket: string): string | undefined {
    const m = /^(PVE:(\S+):([A-Z0-9]{8}))::([^:\s]+)$/.exec(ticket);
    if (!m) return undefined;
    if (!safeEqual(this.sign(m[1]), m[4])) return undefined;
    if (!this.ageOk(m[3])) return undefined;
    return decodeURIComponent(m[2]);
  }

  csrfToken(user: string): string {
    const ts = this.hexTime();
    return `${ts}:${this.sign(`${ts}:${user}`)}`;
  }

  verifyCsrf(user: string, token: string | undefined): boolean {
    const m = /^([A-Z0-9]{8}):(\S+)$/.exec(token ?? "");
    if (!m) return false;
    return safeEqual(this.sign(`${m[1]}:${user}`), m[2]) && this.ageOk(m[1]);
  }
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** `PVEAuthCookie=<ticket>` from a Cookie (or Authorization) header (pve-http-server Formatter.pm extract_auth_value). */
export function extractAuthValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const m = new RegExp(`(?:^|\\s)${name}(?:=| )([^;]*)`).exec(header);
  return m ? decodeURIComponent(m[1]) : undefined;
}
