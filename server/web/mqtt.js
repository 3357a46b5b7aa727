// A small MQTT 3.1.1 client over WebSockets (subprotocol "mqtt", binary frames), enough for a watcher's phone:
// CONNECT with user and password, PUBLISH at QoS 0/1 (a QoS 1 publish resolves on its PUBACK and is sent again, DUP,
// after a reconnect), SUBSCRIBE, PINGREQ keep-alive, and reconnecting with back-off. No dependencies, no build step.
//
//   const c = new MqttClient('ws://127.0.0.1:9001', {username: 'somchai', password: '…', clientId: 'web-somchai-1'});
//   c.onmessage = (topic, text) => …;  c.onstate = (connected, why) => …;
//   c.subscribe('kaoko/v1/tonhong/kaoko/receipt/somchai', 1);
//   c.connect();
//   await c.publish('kaoko/v1/tonhong/kaoko/report/somchai', JSON.stringify(report), 1);
'use strict';
(function () {
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  function str(s) {
    const b = enc.encode(s);
    const out = new Uint8Array(2 + b.length);
    out[0] = b.length >> 8; out[1] = b.length & 255; out.set(b, 2);
    return out;
  }
  function u16(n) { return new Uint8Array([n >> 8, n & 255]); }
  function concat(parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }
  // Fixed header byte + "remaining length" (variable-length integer) + body.
  function packet(first, parts) {
    const body = concat(parts);
    const len = [];
    let x = body.length;
    do { let d = x % 128; x = Math.floor(x / 128); if (x > 0) d |= 128; len.push(d); } while (x > 0);
    return concat([new Uint8Array([first]), new Uint8Array(len), body]);
  }

  class MqttClient {
    constructor(url, opts) {
      this.url = url;
      this.opts = Object.assign({ keepalive: 30, clean: true, clientId: 'web-' + Math.random().toString(36).slice(2, 12) }, opts);
      this.ws = null;
      this.connected = false;
      this.nextId = 1;
      this.inflight = new Map();  // packet id -> {bytes, resolve, reject}
      this.subs = new Map();      // filter -> qos
      this.buf = new Uint8Array(0);
      this.delay = 1000;
      this.stopped = true;
      this.onmessage = null;
      this.onstate = null;
    }

    connect() {
      this.stopped = false;
      this._open();
    }
    end() {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(new Uint8Array([0xe0, 0]));
      if (this.ws) this.ws.close();
    }
    // Resolves when the broker has the message (PUBACK for QoS 1; at once for QoS 0). Unsent QoS 1 messages wait
    // for the next connection.
    publish(topic, payload, qos = 1, retain = false) {
      const body = enc.encode(payload);
      if (qos === 0) {
        if (this.connected) this.ws.send(packet(0x30 | (retain ? 1 : 0), [str(topic), body]));
        return Promise.resolve();
      }
      const id = this._id();
      return new Promise((resolve, reject) => {
        const make = (dup) => packet(0x30 | (dup ? 8 : 0) | 2 | (retain ? 1 : 0), [str(topic), u16(id), body]);
        this.inflight.set(id, { make, resolve, reject });
        if (this.connected) this.ws.send(make(false));
      });
    }
    subscribe(filter, qos = 1) {
      this.subs.set(filter, qos);
      if (this.connected) this._subscribe([[filter, qos]]);
    }

    _id() {
      const id = this.nextId;
      this.nextId = this.nextId >= 65535 ? 1 : this.nextId + 1;
      return id;
    }
    _state(connected, why) {
      this.connected = connected;
      if (this.onstate) this.onstate(connected, why || '');
    }
    _open() {
      let ws;
      try {
        ws = new WebSocket(this.url, ['mqtt']);
      } catch (e) {
        return this._retry('cannot open ' + this.url);
      }
      this.ws = ws;
      ws.binaryType = 'arraybuffer';
      this.buf = new Uint8Array(0);
      ws.onopen = () => {
        const o = this.opts;
        let flags = o.clean ? 2 : 0;
        const payload = [str(o.clientId)];
        if (o.username !== undefined) { flags |= 0x80; payload.push(str(o.username)); }
        if (o.password !== undefined) { flags |= 0x40; payload.push(str(o.password)); }
        ws.send(packet(0x10, [str('MQTT'), new Uint8Array([4, flags]), u16(o.keepalive)].concat(payload)));
      };
      ws.onmessage = (ev) => this._data(new Uint8Array(ev.data));
      ws.onerror = () => {};
      ws.onclose = () => {
        clearInterval(this.pingTimer);
        clearTimeout(this.pongTimer);
        if (this.ws !== ws) return;
        const was = this.connected;
        this._state(false, was ? 'connection lost' : this.refused || 'cannot reach the broker');
        this._retry();
      };
    }
    _retry() {
      if (this.stopped) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this._open(), this.delay);
      this.delay = Math.min(this.delay * 2, 30000);
    }
    // Reconnect now (the network came back), rather than waiting out the back-off.
    kick() {
      if (this.stopped || this.connected) return;
      this.delay = 1000;
      clearTimeout(this.retryTimer);
      if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
      else this._open();
    }
    _subscribe(list) {
      const parts = [u16(this._id())];
      for (const [f, q] of list) { parts.push(str(f)); parts.push(new Uint8Array([q])); }
      this.ws.send(packet(0x82, parts));
    }
    _data(bytes) {
      const b = new Uint8Array(this.buf.length + bytes.length);
      b.set(this.buf); b.set(bytes, this.buf.length);
      this.buf = b;
      for (;;) {
        if (this.buf.length < 2) return;
        let len = 0, mult = 1, i = 1, d;
        do {
          if (i >= this.buf.length) return;
          d = this.buf[i++];
          len += (d & 127) * mult;
          mult *= 128;
        } while (d & 128);
        if (this.buf.length < i + len) return;
        const type = this.buf[0] >> 4, flags = this.buf[0] & 15;
        const body = this.buf.slice(i, i + len);
        this.buf = this.buf.slice(i + len);
        this._packet(type, flags, body);
      }
    }
    _packet(type, flags, body) {
      switch (type) {
        case 2: {  // CONNACK
          if (body[1] !== 0) {
            this.refused = ['', 'protocol refused', 'client id refused', 'broker unavailable',
              'wrong user name or password', 'not authorised'][body[1]] || 'refused ' + body[1];
            this.ws.close();
            return;
          }
          this.refused = null;
          this.delay = 1000;
          this._state(true);
          if (this.subs.size) this._subscribe([...this.subs]);
          for (const m of this.inflight.values()) this.ws.send(m.make(true));
          clearInterval(this.pingTimer);
          this.pingTimer = setInterval(() => this._ping(), (this.opts.keepalive * 1000) / 2);
          return;
        }
        case 3: {  // PUBLISH
          const qos = (flags >> 1) & 3;
          const tl = (body[0] << 8) | body[1];
          const topic = dec.decode(body.slice(2, 2 + tl));
          let o = 2 + tl;
          if (qos > 0) {
            const id = (body[o] << 8) | body[o + 1];
            o += 2;
            this.ws.send(packet(qos === 1 ? 0x40 : 0x50, [u16(id)]));
          }
          if (this.onmessage) this.onmessage(topic, dec.decode(body.slice(o)));
          return;
        }
        case 4: {  // PUBACK
          const id = (body[0] << 8) | body[1];
          const m = this.inflight.get(id);
          if (m) { this.inflight.delete(id); m.resolve(); }
          return;
        }
        case 9: return;  // SUBACK
        case 13: clearTimeout(this.pongTimer); return;  // PINGRESP
        default: return;
      }
    }
    _ping() {
      if (!this.connected) return;
      this.ws.send(new Uint8Array([0xc0, 0]));
      clearTimeout(this.pongTimer);
      // No answer within the keep-alive: the line is dead even if the socket does not know yet.
      this.pongTimer = setTimeout(() => { if (this.ws) this.ws.close(); }, this.opts.keepalive * 1000);
    }
  }
  window.MqttClient = MqttClient;
})();
