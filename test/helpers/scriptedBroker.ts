import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * A scripted broker speaking raw MQTT 3.1.1 over loopback, so a test decides exactly what is sent
 * (a redelivery with the same packet id, say) and sees exactly which acknowledgements come back,
 * which a real broker hides. Answers CONNECT, SUBSCRIBE and PINGREQ by itself.
 */
export class ScriptedBroker {
  readonly received: Packet[] = [];
  private server: Server | undefined;
  socket: Socket | undefined;
  connections = 0;

  async start(): Promise<number> {
    this.server = createServer((socket) => {
      this.socket = socket;
      this.connections++;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (packet: Packet) => {
        this.received.push(packet);
        if (packet.cmd === 'connect') this.send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
        if (packet.cmd === 'subscribe') {
          this.send({
            cmd: 'suback',
            messageId: packet.messageId as number,
            granted: packet.subscriptions.map((s) => s.qos),
          });
        }
        if (packet.cmd === 'pingreq') this.send({ cmd: 'pingresp' });
      });
      socket.on('data', (data) => parser.parse(data));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return (this.server?.address() as AddressInfo).port;
  }

  send(...packets: Packet[]): void {
    this.socket?.write(Buffer.concat(packets.map((p) => mqttPacket.generate(p, { protocolVersion: 4 }))));
  }

  publish(
    messageId: number,
    qos: 1 | 2 = 1,
    options: { topic?: string; payload?: string; dup?: boolean } = {},
  ): Packet {
    return {
      cmd: 'publish',
      topic: options.topic ?? 't/1',
      payload: Buffer.from(options.payload ?? String(messageId)),
      qos,
      retain: false,
      dup: options.dup ?? false,
      messageId,
    };
  }

  acks(cmd: 'puback' | 'pubcomp' | 'pubrec'): number[] {
    return this.received.filter((p) => p.cmd === cmd).map((p) => (p as { messageId: number }).messageId);
  }

  async stop(): Promise<void> {
    this.socket?.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
