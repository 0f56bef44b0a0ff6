// What e2e/vitest-setup.mjs provides to the tests.
declare module "vitest" {
  export interface ProvidedContext {
    apiUrl: string;
  }
}
export {};
