/** Answers in Amazon's shapes: `{errors:[{code, message, details}]}` and the messages of errors.json. */
export const MSG = {
  quota: 'You exceeded your quota for the requested resource.',
  invalid: 'The input you have submitted is not valid. Please check your input and try again.',
  denied: 'Access to requested resource is denied.',
  internal: 'We encountered an internal error. Please try again.',
};

export class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export const amazonError = (status: number, code: string, message: string, details = '', headers: Record<string, string> = {}) =>
  new HttpAnswer(status, { errors: [{ code, message, details }] }, headers);
export const invalidInput = (details = '') => amazonError(400, 'InvalidInput', MSG.invalid, details);

