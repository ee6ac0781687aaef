import type { DEVICE_PROFILES } from '../../../shared/nodes/simulator.js';

export type DeviceProfile = (typeof DEVICE_PROFILES)[number];

export interface FleetOptions {
  readonly devices: number;
  readonly profiles: readonly DeviceProfile[];
  readonly statusEvery: number;
  readonly anomalyRate: number;
  readonly invalidRate: number;
  readonly seed: number;
  readonly topicPrefix: string;
  readonly intervalMs: number;
}

export interface SimulatedMessage {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  readonly priority: 'low' | 'normal' | 'high';
}

/**
 * Mulberry32: a tiny seeded PRNG, so a seeded fleet is the same on every machine and tests can
 * predict exact values. (Math.random cannot be seeded; a dependency for 6 lines is not worth it.)
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Metric {
  readonly name: string;
  readonly base: number;
  readonly amplitude: number;
  readonly noise: number;
  readonly spike: number;
  readonly min?: number;
  readonly max?: number;
}

/** What each profile reports: a sensor idles cool, a camera runs hot and busy, a gateway moves traffic. */
const PROFILE_METRICS: Record<DeviceProfile, readonly Metric[]> = {
  sensor: [
    { name: 'temperature', base: 21, amplitude: 3, noise: 0.2, spike: 25 },
    { name: 'humidity', base: 45, amplitude: 10, noise: 0.5, spike: 40, min: 0, max: 100 },
  ],
  camera: [
    { name: 'temperature', base: 58, amplitude: 6, noise: 0.5, spike: 30 },
    { name: 'cpu', base: 72, amplitude: 15, noise: 3, spike: 40, min: 0, max: 100 },
    { name: 'fps', base: 25, amplitude: 2, noise: 1, spike: -20, min: 0 },
  ],
  gateway: [
    { name: 'cpu', base: 22, amplitude: 10, noise: 2, spike: 70, min: 0, max: 100 },
    { name: 'memoryMb', base: 512, amplitude: 64, noise: 4, spike: 400 },
    { name: 'uplinkKbps', base: 800, amplitude: 300, noise: 50, spike: 5000, min: 0 },
  ],
};

/** Drift period in ticks: slow enough to look like a day's cycle at 1 s intervals. */
const DRIFT_PERIOD_TICKS = 600;

interface Device {
  readonly id: string;
  readonly profile: DeviceProfile;
  readonly phase: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** A deterministic fleet: with the same seed the same tick yields the same values. */
export class FleetModel {
  readonly devices: readonly Device[];
  private readonly random: () => number;
  private spare: number | undefined;

  constructor(private readonly options: FleetOptions) {
    this.random = mulberry32(options.seed);
    this.devices = Array.from({ length: options.devices }, (_, i) => ({
      id: `dev-${i + 1}`,
      profile: options.profiles[i % options.profiles.length] as DeviceProfile,
      phase: this.random() * 2 * Math.PI,
    }));
  }

  /** Box–Muller; keeps the second value for the next call. */
  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Every message of one tick, device by device. `now` only stamps `ts`; values depend on the tick. */
  tick(tick: number, now: number): SimulatedMessage[] {
    const { topicPrefix, anomalyRate, invalidRate, statusEvery, intervalMs } = this.options;
    const out: SimulatedMessage[] = [];
    for (const device of this.devices) {
      const metrics = PROFILE_METRICS[device.profile];
      const angle = (2 * Math.PI * tick) / DRIFT_PERIOD_TICKS + device.phase;
      const payload: Record<string, unknown> = { deviceId: device.id, profile: device.profile, ts: now, seq: tick };
      const spike = this.random() < anomalyRate;
      const invalid = this.random() < invalidRate;
      metrics.forEach((m, i) => {
        let value = m.base + m.amplitude * Math.sin(angle + i) + m.noise * this.gaussian();
        if (spike && i === 0) value += m.spike;
        if (m.min !== undefined) value = Math.max(m.min, value);
        if (m.max !== undefined) value = Math.min(m.max, value);
        payload[m.name] = round2(value);
      });
      const primary = (metrics[0] as Metric).name;
      if (invalid) payload[primary] = 'n/a';
      const base = `${topicPrefix}/${device.id}`;
      out.push({ topic: `${base}/telemetry`, payload, qos: 0, retain: false, priority: 'low' });
      if (spike) {
        out.push({
          topic: `${base}/events`,
          payload: { deviceId: device.id, ts: now, seq: tick, type: 'spike', metric: primary, value: payload[primary] },
          qos: 1,
          retain: false,
          priority: 'high',
        });
      }
      if (tick % statusEvery === 0) {
        out.push({
          topic: `${base}/status`,
          payload: {
            deviceId: device.id,
            profile: device.profile,
            ts: now,
            online: true,
            firmware: '1.4.2',
            uptimeS: Math.round((tick * intervalMs) / 1000),
          },
          qos: 1,
          retain: true,
          priority: 'normal',
        });
      }
    }
    return out;
  }
}
