/** A service Fairway needs is missing and cannot be started; the message is one line telling the user what to do. */
export class ServiceUnavailableError extends Error {
  override name = "ServiceUnavailableError";
}
