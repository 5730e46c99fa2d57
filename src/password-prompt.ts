import { checkNewPassword, generatePassword } from './domain/passwords.js';
import { ValidationError } from './domain/errors.js';

/** Reads a line from the terminal without echoing it. */
function readHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let value = '';
  return new Promise((resolve, reject) => {
    const finish = (result: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      result();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(value));
        if (ch === '\u0003') return finish(() => reject(new Error('cancelled')));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A new password for `userName`: typed twice at a terminal, or, when stdin is not a terminal
 * (a script, CI), a random one that the caller prints once.
 */
export async function choosePassword(userName: string): Promise<{ password: string; generated: boolean }> {
  if (!process.stdin.isTTY) return { password: generatePassword(), generated: true };
  for (let attempt = 1; ; attempt++) {
    const password = await readHidden(`New password for ${userName}: `);
    try {
      checkNewPassword(password);
    } catch (error) {
      if (!(error instanceof ValidationError) || attempt >= 3) throw error;
      process.stderr.write(`The password ${error.details[0]?.message ?? error.message}; try again.\n`);
      continue;
    }
    if ((await readHidden('Repeat it: ')) === password) return { password, generated: false };
    if (attempt >= 3) throw new Error('the passwords did not match');
    process.stderr.write('The passwords did not match; try again.\n');
  }
}
