package sublist_test

import (
	"errors"
	"fmt"
	"slices"

	"natsd.dev/sublist"
)

type subscription struct{ name string }

func ExampleSublist() {
	subs := sublist.New[*subscription]()
	alice := &subscription{"alice"}
	bob := &subscription{"bob"}
	subs.Insert("orders.*", "", alice)
	subs.Insert("orders.>", "", bob)

	for _, s := range subs.Match("orders.eu").Plain {
		fmt.Println("orders.eu ->", s.name)
	}
	for _, s := range subs.Match("orders.eu.1").Plain {
		fmt.Println("orders.eu.1 ->", s.name)
	}

	subs.Remove("orders.*", "", alice)
	fmt.Println("subscriptions:", subs.Count())
	fmt.Println("interest in orders.us:", subs.HasInterest("orders.us"))
	// Unordered output:
	// orders.eu -> alice
	// orders.eu -> bob
	// orders.eu.1 -> bob
	// subscriptions: 1
	// interest in orders.us: true
}

func ExampleSublist_Match_queues() {
	subs := sublist.New[string]()
	subs.Insert("jobs.*", "workers", "w1")
	subs.Insert("jobs.resize", "workers", "w2")
	subs.Insert("jobs.resize", "auditors", "a1")
	subs.Insert("jobs.>", "", "logger")

	r := subs.Match("jobs.resize")
	fmt.Println("plain:", r.Plain)
	// Members of "workers" found through both filters form one group:
	// deliver to one member of each group.
	groups := map[string][]string{}
	for _, g := range r.Queues {
		groups[g.Name] = slices.Sorted(slices.Values(g.Members))
	}
	fmt.Println("workers:", groups["workers"])
	fmt.Println("auditors:", groups["auditors"])
	// Output:
	// plain: [logger]
	// workers: [w1 w2]
	// auditors: [a1]
}

func ExampleSubjectMatchesFilter() {
	fmt.Println(sublist.SubjectMatchesFilter("orders.eu.1", "orders.*.1"))
	fmt.Println(sublist.SubjectMatchesFilter("orders.eu.1", "orders.>"))
	fmt.Println(sublist.SubjectMatchesFilter("orders", "orders.>"))
	fmt.Println(sublist.IsSubsetMatch("orders.eu.*", "orders.>"))
	fmt.Println(sublist.IsSubsetMatch("orders.>", "orders.*.*"))
	fmt.Println(sublist.ValidFilter("orders.>.eu"), sublist.ValidLiteralSubject("orders.*"))
	for tok := range sublist.Tokens("orders.eu.1") {
		fmt.Print(tok, " ")
	}
	fmt.Println()
	// Output:
	// true
	// true
	// false
	// true
	// false
	// false false
	// orders eu 1
}

func ExampleTransform() {
	tr, err := sublist.NewTransform("orders.*.*", "shard.{{partition(4,2)}}.{{wildcard(1)}}.$2")
	if err != nil {
		panic(err)
	}
	out, _ := tr.Apply("orders.eu.12345")
	fmt.Println(out)

	_, err = tr.Apply("invoices.eu.1")
	fmt.Println(errors.Is(err, sublist.ErrNoTransform))

	_, err = sublist.NewTransform("orders.*", "x.{{wildcard(2)}}")
	fmt.Println(err)
	// Output:
	// shard.0.eu.12345
	// true
	// sublist: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]
}
