// The bearer token, kept for this browser tab only (sessionStorage), asked for once when the
// server answers 401 with `WWW-Authenticate: Bearer`. Servers without auth never ask.
const KEY = "ml-platform.token";

let pending: Promise<string | null> | null = null;

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** Ask the user for a token; concurrent 401s share one prompt, and a cancelled or repeated
 * prompt clears the token instead of asking in a loop. */
export function askToken(): Promise<string | null> {
  pending ??= Promise.resolve().then(() => {
    const previous = storedToken();
    const token = window.prompt(
      previous
        ? "The API did not accept the token. Enter a valid bearer token:"
        : "This ml-platform requires a bearer token. Enter your token:",
    );
    if (token && token.trim()) sessionStorage.setItem(KEY, token.trim());
    else sessionStorage.removeItem(KEY);
    // Let the requests that are waiting on this prompt retry before anyone asks again.
    setTimeout(() => (pending = null), 1000);
    return token?.trim() || null;
  });
  return pending;
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
