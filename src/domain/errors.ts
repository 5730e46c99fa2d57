/** A problem with one field of a request, named so a client can show it beside that field. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Base of the errors the API translates to HTTP in one place (src/api/error-handler.ts). */
export abstract class AppError extends Error {
  abstract readonly code: string;
  readonly details: FieldProblem[];
  constructor(message: string, details: FieldProblem[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ValidationError extends AppError {
  readonly code = 'validation_error';
  /** One problem with one field. */
  static field(field: string, message: string): ValidationError {
    return new ValidationError(`${field}: ${message}`, [{ field, message }]);
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
}

export class ConflictError extends AppError {
  readonly code = 'conflict';
}

export class UnauthorizedError extends AppError {
  readonly code = 'unauthorized';
}

export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
}
