import { DomainError } from '../errors.js';

/**
 * Harbor's rules for local users (src/server/v2.0/handler/user.go `requireValidSecret`,
 * `validateUserProfile`, and the username checks of its user API). Each throws `request.invalid` with
 * Harbor's message, or returns the value to store.
 */
export const USERNAME_MAX = 255;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
const EMAIL_MAX = 255;
const REALNAME_MAX = 255;
const COMMENT_MAX = 30;

/**
 * Characters Harbor refuses in usernames and real names. Berth also refuses `:` and control characters
 * in usernames: a name with `:` could never log in with HTTP Basic, whose user ends at the first colon.
 */
const NAME_ILLEGAL = /[,"~#$%]/;
const USERNAME_ILLEGAL = /[,"~#$%:\p{Cc}]/u;

/** Harbor's email pattern (validateUserProfile), checked only after the length bound. */
const EMAIL_PATTERN =
  /^(([^<>()[\]\\.,;:\s@"]+(\.[^<>()[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$/;

function length(text: string): number {
  // Harbor counts characters (runes), not UTF-16 units.
  return [...text].length;
}

export function checkUsername(username: string): string {
  if (username.length === 0 || length(username) > USERNAME_MAX) {
    throw new DomainError('request.invalid', 'username with illegal length');
  }
  if (USERNAME_ILLEGAL.test(username)) {
    throw new DomainError('request.invalid', 'username contains illegal characters');
  }
  return username;
}

/**
 * 8 to 128 characters with at least one uppercase letter, one lowercase letter and one digit. Harbor's
 * API checks the lower bound and the classes; its portal the upper bound, kept here so the slow hash
 * never runs on megabytes.
 */
export function checkPassword(password: string): string {
  const size = length(password);
  if (
    size < PASSWORD_MIN ||
    size > PASSWORD_MAX ||
    !/[a-z]/.test(password) ||
    !/[A-Z]/.test(password) ||
    !/[0-9]/.test(password)
  ) {
    throw new DomainError(
      'request.invalid',
      `the password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters with at least 1 uppercase letter, 1 lowercase letter and 1 number`,
    );
  }
  return password;
}

/** An email is optional ('' is none); one that is given must look like an email. */
export function checkEmail(email: string): string {
  if (email === '') return email;
  if (length(email) > EMAIL_MAX || !EMAIL_PATTERN.test(email)) {
    throw new DomainError('request.invalid', 'email with illegal format');
  }
  return email;
}

export function checkRealname(realname: string): string {
  if (length(realname) > REALNAME_MAX)
    throw new DomainError('request.invalid', 'realname with illegal length');
  if (NAME_ILLEGAL.test(realname))
    throw new DomainError('request.invalid', 'realname contains illegal characters');
  return realname;
}

export function checkComment(comment: string): string {
  if (length(comment) > COMMENT_MAX) throw new DomainError('request.invalid', 'comment with illegal length');
  return comment;
}
