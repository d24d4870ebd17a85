package topic_test

import (
	"fmt"

	"natsd.dev/mqtt/internal/topic"
)

func ExampleAppendSubject() {
	for _, t := range []string{"sensors/cold-1/temp", "/sensors/temp", "spBv1.0/plant1", "a b"} {
		subj, err := topic.AppendSubject(nil, []byte(t))
		fmt.Printf("%q %q %v\n", t, subj, err)
	}
	// Output:
	// "sensors/cold-1/temp" "sensors.cold-1.temp" <nil>
	// "/sensors/temp" "/.sensors.temp" <nil>
	// "spBv1.0/plant1" "spBv1//0.plant1" <nil>
	// "a b" "" topic: invalid topic name
}

func ExampleFilterSubjects() {
	for _, f := range []string{"sensors/+/temp", "sensors/#", "#"} {
		subjects, _ := topic.FilterSubjects(f)
		fmt.Println(f, subjects)
	}
	// Output:
	// sensors/+/temp [sensors.*.temp]
	// sensors/# [sensors sensors.>]
	// # [>]
}

func ExampleAppendTopic() {
	fmt.Printf("%s\n", topic.AppendTopic(nil, []byte("spBv1//0.plant1")))
	fmt.Printf("%s\n", topic.AppendTopic(nil, []byte("/.sensors.temp")))
	// Output:
	// spBv1.0/plant1
	// /sensors/temp
}
