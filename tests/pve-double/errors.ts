/**
 * How Proxmox turns an error into an HTTP answer (pve-http-server src/PVE/APIServer/AnyEvent.pm:290-330,
 * Formatter/Standard.pm:14-50, pve-common src/PVE/Exception.pm):
 *  - the status line's reason phrase is the first line of the message;
 *  - the JSON body is `{data: null, message}` (since libpve-http-server-perl 5.2.0), plus `errors` for a
 *    parameter exception (raise_param_exc: 400 "Parameter verification failed.");
 *  - a plain `die` in an API handler is a 500 with the die text (trailing newline kept in `message`).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
  }
}

/** `die "<text>\n"` inside an API method: 500 with the text (pve-http-server AnyEvent.pm handle_api2_request). */
export function die(text: string): ApiError {
  return new ApiError(500, text.endsWith("\n") ? text : `${text}\n`);
}

/** raise_param_exc (pve-common src/PVE/Exception.pm:78-95): 400 with per-parameter errors. */
export function paramError(errors: Record<string, string>): ApiError {
  return new ApiError(400, "Parameter verification failed.\n", errors);
}

/** raise_perm_exc (pve-common src/PVE/Exception.pm:53-68): 403 `Permission check failed (<text>)`. */
export function permError(text: string): ApiError {
  return new ApiError(403, `Permission check failed (${text})\n`);
}
