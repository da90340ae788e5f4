import { describe, expect, it } from 'vitest';
import { isDomainError } from '../errors.js';
import { cveAllowlistFromRequest } from './cve-allowlist.js';
import { metadataApiEntry, metadataApiValue, projectRequestMetadata } from './project-metadata.js';

function refused(work: () => unknown): boolean {
  try {
    work();
  } catch (error) {
    return isDomainError(error, 'request.invalid');
  }
  return false;
}

describe('projectRequestMetadata (ProjectReq.metadata)', () => {
  it('keeps the known keys, lower-cases severity, and ignores unknown keys, empty values and proxy settings', () => {
    expect(
      projectRequestMetadata({
        public: 'true',
        enable_content_trust: 'false',
        enable_content_trust_cosign: 'true',
        prevent_vul: 'true',
        auto_scan: 'false',
        auto_sbom_generation: 'true',
        reuse_sys_cve_allowlist: 'false',
        severity: 'CRITICAL',
        retention_id: '',
        proxy_speed_kb: '-1',
        max_upstream_conn: '2147483647',
        proxy_cache_filter_pattern: '**',
        something_else: 'x',
        auto_scan_extra: null,
      }),
    ).toEqual({
      public: 'true',
      enable_content_trust: 'false',
      enable_content_trust_cosign: 'true',
      prevent_vul: 'true',
      auto_scan: 'false',
      auto_sbom_generation: 'true',
      reuse_sys_cve_allowlist: 'false',
      severity: 'critical',
    });
    expect(projectRequestMetadata(undefined)).toEqual({});
  });

  it('refuses booleans other than "true"/"false", unknown severities, non-strings and bad proxy numbers', () => {
    for (const metadata of [
      { public: 'True' },
      { auto_scan: '1' },
      { prevent_vul: true },
      { severity: 'unknown' },
      { severity: 'severe' },
      { proxy_speed_kb: '2147483648' },
      { max_upstream_conn: 'ten' },
    ]) {
      expect(
        refused(() => projectRequestMetadata(metadata)),
        JSON.stringify(metadata),
      ).toBe(true);
    }
  });

  it('lets retention_id only repeat the one the project has', () => {
    expect(refused(() => projectRequestMetadata({ retention_id: '4' }))).toBe(true);
    expect(refused(() => projectRequestMetadata({ retention_id: '4' }, { currentRetentionId: '5' }))).toBe(
      true,
    );
    expect(projectRequestMetadata({ retention_id: '4' }, { currentRetentionId: '4' })).toEqual({});
  });
});

describe('the metadata API', () => {
  it("reads booleans as Go's ParseBool does and stores them as true/false; negligible is none", () => {
    expect(metadataApiEntry({ auto_scan: 'T' })).toEqual(['auto_scan', 'true']);
    expect(metadataApiEntry({ public: '0' })).toEqual(['public', 'false']);
    expect(metadataApiValue('severity', 'Negligible')).toBe('none');
    expect(metadataApiValue('severity', 'Low')).toBe('low');
  });

  it('takes exactly one known key with a valid value', () => {
    for (const body of [
      {},
      { a: 'true', b: 'true' },
      { retention_id: '1' },
      { auto_scan: 'yes' },
      { public: 1 },
    ]) {
      expect(
        refused(() => metadataApiEntry(body)),
        JSON.stringify(body),
      ).toBe(true);
    }
  });
});

describe('cveAllowlistFromRequest', () => {
  it('reads the ids in order and the expiry', () => {
    expect(
      cveAllowlistFromRequest(
        { project_id: 7, items: [{ cve_id: 'CVE-1' }, { cve_id: 'GHSA-x' }], expires_at: 5 },
        7,
      ),
    ).toEqual({ items: ['CVE-1', 'GHSA-x'], expiresAt: 5 });
    expect(cveAllowlistFromRequest({ project_id: 0 }, 7)).toEqual({ items: [], expiresAt: null });
  });

  it("refuses another project's id, repeated or empty ids, and a bad expiry", () => {
    for (const input of [
      { project_id: 8 },
      { items: [{ cve_id: 'CVE-1' }, { cve_id: 'CVE-1' }] },
      { items: [{ cve_id: ' ' }] },
      { items: ['CVE-1'] },
      { expires_at: 1.5 },
      { expires_at: '2030' },
      [],
    ]) {
      expect(
        refused(() => cveAllowlistFromRequest(input, 7)),
        JSON.stringify(input),
      ).toBe(true);
    }
  });
});
