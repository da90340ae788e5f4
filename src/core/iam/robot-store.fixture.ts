import { DomainError } from '../errors.js';
import type {
  NewRobot,
  OffsetPage,
  Paged,
  Project,
  Robot,
  RobotChanges,
  RobotQuery,
  RobotSecret,
} from '../../ports/metadata-store.js';
import type { MemberRoleSource } from './access.policy.js';
import type { RoleId } from './rbac.js';
import type { RobotServiceStore } from './robot.service.js';

/**
 * An in-memory RobotServiceStore and member source for unit tests of RobotService (core may not import
 * the Kysely adapter; the adapter itself runs the MetadataStore contract). Projects and memberships are
 * set up directly.
 */
export class MemoryRobotStore implements RobotServiceStore, MemberRoleSource {
  readonly #robots = new Map<number, Robot>();
  readonly #projects = new Map<number, Project>();
  readonly #roles = new Map<string, RoleId[]>();
  #nextId = 1;

  addProject(name: string, isPublic = false): Project {
    const project: Project = {
      projectId: this.#nextId++,
      name,
      ownerId: 1,
      isPublic,
      metadata: { public: String(isPublic) },
      storageLimitBytes: -1,
      storageUsedBytes: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    this.#projects.set(project.projectId, project);
    return project;
  }

  removeProject(projectId: number): void {
    this.#projects.delete(projectId);
  }

  setRole(projectId: number, userId: number, role: RoleId): void {
    this.#roles.set(`${projectId}/${userId}`, [role]);
  }

  memberRoles(projectId: number, userId: number): Promise<RoleId[]> {
    return Promise.resolve(this.#roles.get(`${projectId}/${userId}`) ?? []);
  }

  holdsRoleInAnyProject(userId: number, role: RoleId): Promise<boolean> {
    return Promise.resolve(
      [...this.#roles].some(([key, roles]) => key.endsWith(`/${userId}`) && roles.includes(role)),
    );
  }

  findProjectByName(name: string): Promise<Project | undefined> {
    return Promise.resolve([...this.#projects.values()].find((project) => project.name === name));
  }

  findProjectById(projectId: number): Promise<Project | undefined> {
    return Promise.resolve(this.#projects.get(projectId));
  }

  createRobot(robot: NewRobot): Promise<Robot> {
    if ([...this.#robots.values()].some((existing) => existing.name === robot.name)) {
      return Promise.reject(new DomainError('conflict', 'already exists'));
    }
    const created: Robot = structuredClone({ ...robot, robotId: this.#nextId++, updatedAt: robot.createdAt });
    this.#robots.set(created.robotId, created);
    return Promise.resolve(structuredClone(created));
  }

  findRobotById(robotId: number): Promise<Robot | undefined> {
    const robot = this.#robots.get(robotId);
    return Promise.resolve(robot && structuredClone(robot));
  }

  findRobotByName(name: string): Promise<Robot | undefined> {
    const robot = [...this.#robots.values()].find((candidate) => candidate.name === name);
    return Promise.resolve(robot && structuredClone(robot));
  }

  listRobots(query: RobotQuery, page: OffsetPage): Promise<Paged<Robot>> {
    const matching = [...this.#robots.values()]
      .filter((robot) => query.level === undefined || robot.level === query.level)
      .filter((robot) => query.projectId === undefined || robot.projectId === query.projectId)
      .filter(
        (robot) =>
          query.name === undefined ||
          (query.name.fuzzy ? robot.name.includes(query.name.value) : robot.name === query.name.value),
      )
      .sort((a, b) => b.robotId - a.robotId);
    return Promise.resolve({
      items: structuredClone(matching.slice(page.offset, page.offset + page.limit)),
      total: matching.length,
    });
  }

  updateRobot(robotId: number, changes: RobotChanges): Promise<Robot | undefined> {
    const robot = this.#robots.get(robotId);
    if (robot === undefined) return Promise.resolve(undefined);
    Object.assign(robot, structuredClone(changes), { updatedAt: new Date().toISOString() });
    return Promise.resolve(structuredClone(robot));
  }

  setRobotSecret(robotId: number, secret: RobotSecret): Promise<boolean> {
    const robot = this.#robots.get(robotId);
    if (robot !== undefined) robot.secret = { ...secret };
    return Promise.resolve(robot !== undefined);
  }

  deleteRobot(robotId: number): Promise<boolean> {
    return Promise.resolve(this.#robots.delete(robotId));
  }
}
