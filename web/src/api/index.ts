import { askToken, storedToken } from "./auth";
import { createClient } from "./client";

/** The client the app uses: same origin, token from this tab's session when the API asks. */
export const api = createClient({ token: storedToken, askToken });
