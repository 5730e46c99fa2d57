/**
 * How user names compare: without case (`ALICE` is `alice`: names are unique that way, migration
 * 0008) and without the spaces around them (a phone keyboard's trailing space). Sign-in looks
 * users up and keys its rate limits by this; the store compares `lower(name)` in SQL alike.
 */
export function userNameKey(name: string): string {
  return name.trim().toLowerCase();
}
