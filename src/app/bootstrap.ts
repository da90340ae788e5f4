import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isDomainError } from '../core/errors.js';
import { generatePassword, hashPassword } from '../core/iam/password.js';
import { PROJECT_ROLES } from '../core/iam/rbac.js';
import type { MetadataStore } from '../ports/metadata-store.js';

/**
 * First start of a registry (Harbor's install): creates the `admin` user and the public `library` project.
 * Without `harbor_admin_password` a strong password is generated, printed once and kept in
 * `<data_volume>/secret/admin_password`, readable by the owner only. As in Harbor, the configured password
 * is used on first start only; later changes go through the API.
 */
export const ADMIN_USERNAME = 'admin';

export async function bootstrapRegistry(options: {
  store: MetadataStore;
  dataVolume: string;
  adminPassword: string | undefined;
  logger: Logger;
  print: (line: string) => void;
}): Promise<void> {
  const { store, logger } = options;
  if (await store.findUserByName(ADMIN_USERNAME)) return;
  const generated = options.adminPassword === undefined || options.adminPassword === '';
  const password = generated ? generatePassword() : (options.adminPassword as string);
  let admin;
  try {
    admin = await store.createUser({
      username: ADMIN_USERNAME,
      email: '',
      realname: 'system admin',
      comment: 'admin user',
      passwordHash: await hashPassword(password),
      sysadmin: true,
    });
  } catch (error) {
    // Another instance bootstrapped at the same moment: its admin stands.
    if (isDomainError(error, 'conflict')) return;
    throw error;
  }
  if (generated) {
    const secretDir = join(options.dataVolume, 'secret');
    await mkdir(secretDir, { recursive: true, mode: 0o700 });
    const file = join(secretDir, 'admin_password');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    options.print(`Generated the admin password (user "${ADMIN_USERNAME}"): ${password}`);
    options.print(`It is kept in ${file} (mode 0600). Change it after logging in.`);
  }
  try {
    const library = await store.createProject({
      name: 'library',
      ownerId: admin.userId,
      isPublic: true,
      metadata: { public: 'true' },
    });
    // Harbor's initial data: the admin is the ProjectAdmin member of `library`.
    await store.addMember({
      projectId: library.projectId,
      userId: admin.userId,
      role: PROJECT_ROLES.projectAdmin,
    });
  } catch (error) {
    if (!isDomainError(error, 'project.exists')) throw error;
  }
  logger.info({ user: ADMIN_USERNAME }, 'registry bootstrapped: admin user and project "library" created');
}
