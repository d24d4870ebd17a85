package mqtt_test

import (
	"context"
	"fmt"
	"os"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"natsd.dev/jetstream"
	"natsd.dev/mqtt"
	"natsd.dev/server"
)

// ExampleStart serves MQTT next to NATS on one server: an MQTT client's
// publish on sensors/kitchen reaches a NATS subscriber on
// sensors.kitchen.
func ExampleStart() {
	dir, _ := os.MkdirTemp("", "mqtt-example")
	defer os.RemoveAll(dir)
	s, _ := server.New(server.Options{Host: "127.0.0.1", Port: server.RandomPort})
	s.Start()
	defer s.Shutdown(context.Background())
	js, err := jetstream.Start(s, jetstream.Options{StoreDir: dir}) // MQTT keeps its state there
	if err != nil {
		fmt.Println(err)
		return
	}
	defer js.Shutdown(context.Background())
	m, err := mqtt.Start(s, mqtt.Options{Host: "127.0.0.1", Port: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Shutdown(context.Background())

	nc, _ := nats.Connect("nats://" + s.Addr().String())
	defer nc.Close()
	sub, _ := nc.SubscribeSync("sensors.*")
	nc.Flush()

	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + m.Addr().String()).SetClientID("thermometer"))
	c.Connect().Wait()
	c.Publish("sensors/kitchen", 1, false, "21.5").Wait()
	c.Disconnect(100)

	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Subject, string(msg.Data), "QoS", msg.Header.Get("Nmqtt-Pub"))
	// Output: sensors.kitchen 21.5 QoS 1
}
