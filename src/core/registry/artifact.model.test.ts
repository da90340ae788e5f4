import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../oci/digest.js';
import {
  accessoryTypeOf,
  additionsOf,
  artifactMediaType,
  artifactSize,
  artifactTypeOf,
  extraAttrsOf,
  iconOf,
  outlineManifest,
} from './artifact.model.js';
import { parseCopySource } from './artifact-copy.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

function image(config: string, extra: Record<string, unknown> = {}, layers: Record<string, unknown>[] = []) {
  return outlineManifest(
    OCI_MANIFEST,
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: config, digest: digestOf(config), size: 100 },
      layers: layers.length
        ? layers
        : [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf('l'), size: 1000 }],
      ...extra,
    }),
  );
}

describe('Harbor artifact model', () => {
  it('types artifacts from their media type as Harbor processors do', () => {
    expect(artifactTypeOf('application/vnd.oci.image.config.v1+json')).toBe('IMAGE');
    expect(artifactTypeOf('application/vnd.docker.container.image.v1+json')).toBe('IMAGE');
    expect(artifactTypeOf(OCI_INDEX)).toBe('IMAGE');
    expect(artifactTypeOf('application/vnd.docker.distribution.manifest.list.v2+json')).toBe('IMAGE');
    expect(artifactTypeOf('application/vnd.cncf.helm.config.v1+json')).toBe('CHART');
    expect(artifactTypeOf('application/vnd.cnab.manifest.v1')).toBe('CNAB');
    expect(artifactTypeOf('application/vnd.wasm.config.v1+json')).toBe('WASM');
    expect(artifactTypeOf('application/vnd.cnai.model.config.v1+json')).toBe('MODEL');
    // The default processor: application/vnd.<vendor>.<type>.config.<version>+json.
    expect(artifactTypeOf('application/vnd.caicloud.model.config.v1alpha1+json')).toBe('MODEL');
    expect(artifactTypeOf('application/vnd.acme.rocket.docs.config.v1+json')).toBe('ROCKET.DOCS');
    expect(artifactTypeOf('application/vnd.oci.empty.v1+json')).toBe('UNKNOWN');
    expect(iconOf('CHART')).toBe('sha256:61cf3a178ff0f75bf08a25d96b75cf7355dc197749a9f128ed3ef34b0df05518');
    expect(iconOf('ROCKET')).toBe('sha256:da834479c923584f4cbcdecc0dac61f32bef1d51e8aae598cf16bd154efab49f');
  });

  it('takes the media type from the config, an index itself, or the annotations that override them', () => {
    expect(artifactMediaType(OCI_MANIFEST, image('application/vnd.cncf.helm.config.v1+json'))).toBe(
      'application/vnd.cncf.helm.config.v1+json',
    );
    const cnab = outlineManifest(
      OCI_INDEX,
      JSON.stringify({
        manifests: [],
        annotations: { 'org.opencontainers.artifactType': 'application/vnd.cnab.manifest.v1' },
      }),
    );
    expect(artifactMediaType(OCI_INDEX, cnab)).toBe('application/vnd.cnab.manifest.v1');
    expect(artifactMediaType(OCI_INDEX, outlineManifest(OCI_INDEX, '{"manifests":[]}'))).toBe(OCI_INDEX);
    const wasm = image('application/vnd.oci.image.config.v1+json', {
      annotations: { 'run.oci.handler': 'wasm' },
    });
    expect(artifactMediaType(OCI_MANIFEST, wasm)).toBe('application/vnd.wasm.config.v1+json');
  });

  it("computes Harbor's sizes: manifest + config + layers, an index + its children", () => {
    const outline = image('application/vnd.oci.image.config.v1+json');
    expect(artifactSize(500, outline, () => undefined)).toBe(1600);
    const child: Digest = digestOf('child');
    const index = outlineManifest(
      OCI_INDEX,
      JSON.stringify({
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: child,
            size: 1,
            platform: { architecture: 'arm', os: 'linux', 'os.features': ['x'] },
          },
          { mediaType: OCI_MANIFEST, digest: digestOf('gone'), size: 1 },
          { mediaType: OCI_MANIFEST, digest: 'not a digest', size: 1 },
        ],
      }),
    );
    expect(index.manifests.map((m) => m.digest)).toEqual([child, digestOf('gone')]);
    expect(index.manifests[0]?.platform).toEqual({ architecture: 'arm', os: 'linux', 'os.features': ['x'] });
    expect(artifactSize(300, index, (digest) => (digest === child ? 1600 : undefined))).toBe(1900);
    expect(outlineManifest(OCI_MANIFEST, 'not json')).toEqual({ kind: 'image', layers: [], manifests: [] });
  });

  it('picks extra_attrs as the image, wasm and default processors do', () => {
    const config = {
      architecture: 'arm64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: { Labels: { maintainer: 'me@example.test' } },
      rootfs: { type: 'layers' },
    };
    const outline = image('application/vnd.oci.image.config.v1+json');
    expect(extraAttrsOf('IMAGE', outline, config)).toEqual({
      created: '2024-01-01T00:00:00Z',
      architecture: 'arm64',
      os: 'linux',
      config: { Labels: { maintainer: 'me@example.test' } },
      author: 'me@example.test',
    });
    expect(extraAttrsOf('IMAGE', outline, undefined)).toEqual({
      created: null,
      architecture: '',
      os: '',
      config: {},
      author: '',
    });
    const chart = { name: 'nginx', version: '1.0.0' };
    expect(extraAttrsOf('CHART', image('application/vnd.cncf.helm.config.v1+json'), chart)).toBe(chart);
    expect(extraAttrsOf('IMAGE', outlineManifest(OCI_INDEX, '{"manifests":[]}'), config)).toBeUndefined();
    const wasm = image('application/vnd.wasm.config.v1+json', {}, [
      {
        mediaType: 'application/vnd.wasm.content.layer.v1+wasm',
        digest: digestOf('w'),
        size: 5,
        annotations: { 'org.opencontainers.image.title': 'app.wasm' },
      },
    ]);
    expect(extraAttrsOf('WASM', wasm, undefined)).toEqual({
      'manifest.config.mediaType': 'application/vnd.wasm.config.v1+json',
      'manifest.layers.mediaType': 'application/vnd.wasm.content.layer.v1+wasm',
      'org.opencontainers.image.title': 'app.wasm',
    });
    expect(additionsOf('IMAGE', outline)).toEqual(['build_history']);
    expect(additionsOf('CHART', outline)).toEqual([]);
  });

  it("types accessories as Harbor's subject middleware does", () => {
    const empty = 'application/vnd.oci.empty.v1+json';
    expect(
      accessoryTypeOf(image(empty, { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' })),
    ).toBe('signature.cosign');
    expect(accessoryTypeOf(image('application/vnd.cncf.notary.signature'))).toBe('signature.notation');
    expect(accessoryTypeOf(image(empty, { artifactType: 'application/vnd.goharbor.harbor.sbom.v1' }))).toBe(
      'sbom.harbor',
    );
    expect(accessoryTypeOf(image(empty, { artifactType: 'application/spdx+json' }))).toBe(
      'subject.accessory',
    );
    const nydus = image('application/vnd.oci.image.config.v1+json', {}, [
      { mediaType: 'x', digest: digestOf('a'), size: 1 },
      {
        mediaType: 'x',
        digest: digestOf('b'),
        size: 1,
        annotations: { 'containerd.io/snapshot/nydus-bootstrap': 'true' },
      },
    ]);
    expect(accessoryTypeOf(nydus)).toBe('accelerator.nydus');
    expect(accessoryTypeOf(image('application/vnd.oci.image.config.v1+json'))).toBe('subject.accessory');
  });

  it('parses the source of a copy', () => {
    const digest = digestOf('x');
    expect(parseCopySource('lib/app:v1')).toEqual({ repository: 'lib/app', project: 'lib', reference: 'v1' });
    expect(parseCopySource(`lib/team/app@${digest}`)).toEqual({
      repository: 'lib/team/app',
      project: 'lib',
      reference: digest,
    });
    expect(parseCopySource(`lib/app:v1@${digest}`).reference).toBe(digest);
    for (const bad of [
      'lib/app',
      'app:v1',
      'lib/app:',
      'lib/app@sha256:zz',
      'Lib/app:v1',
      'lib/app:-x',
      '',
    ]) {
      expect(() => parseCopySource(bad), bad).toThrow();
    }
  });
});
