/**
 * Words for something thrown, safe to call on anything (a getter or `toString` that throws included).
 * @internal
 */
export const describeThrown = (thrown: unknown): string => {
  try {
    return thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)
  } catch {
    return "something that cannot be shown"
  }
}
