package graphtest

// Licences: each subscription carries its SKU's service plans (Microsoft's
// "Product names and service plan identifiers for licensing"), and the
// tenant's premium features come from the plans of the subscriptions not
// yet Deleted. Routes that need a licence refuse without it, with the codes
// tenants without it see (FIDELITY.md, "Licences").

import (
	"net/http"
	"sort"
	"time"
)

// servicePlan is one service plan of a SKU.
type servicePlan struct{ id, name string }

// Service plans that decide features, and a few others so SKUs look real.
var (
	planExchangeStandard   = servicePlan{"9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD"}
	planExchangeEnterprise = servicePlan{"efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"}
	planSharePointStandard = servicePlan{"c7699d2e-19aa-44de-8edf-1736da088ca1", "SHAREPOINTSTANDARD"}
	planSharePointEnt      = servicePlan{"5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE"}
	planTeams              = servicePlan{"57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1"}
	planOfficeApps         = servicePlan{"43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION"}
	planMFAPremium         = servicePlan{"8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM"}
	planIntune             = servicePlan{"c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A"}
	planRMSPremium         = servicePlan{"6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM"}
	planRMSPremium2        = servicePlan{"5689bec4-755d-4753-8b61-40975025187c", "RMS_S_PREMIUM2"}
	planLockbox            = servicePlan{"9f431833-0334-42de-a7dc-70aa40db46db", "LOCKBOX_ENTERPRISE"}
	planVisio              = servicePlan{"663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION"}
	planProject            = servicePlan{"fafd7243-e5c1-4a3a-9e40-495efcb1d3c3", "PROJECT_CLIENT_SUBSCRIPTION"}
	planPowerBIPro         = servicePlan{"70d33638-9c74-4d01-bfd3-562de28bd4ba", "BI_AZURE_P2"}
	planPowerBIFree        = servicePlan{"2049e525-b859-401b-b2a0-e0a31c4b1fe4", "BI_AZURE_P0"}
	planFlowViral          = servicePlan{"50e68c76-46c6-4674-81f9-75456511b170", "FLOW_P2_VIRAL"}

	// PlanEntraP1 is Microsoft Entra ID P1 (conditional access).
	planEntraP1 = servicePlan{"41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"}
	// PlanEntraP2 is Microsoft Entra ID P2 (PIM).
	planEntraP2 = servicePlan{"eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"}
	// planGovernance is Microsoft Entra ID Governance (PIM too).
	planGovernance = servicePlan{"e866a266-3cff-43a3-acca-0c90a7e00c8b", "Entra_Identity_Governance"}
	// planEDiscoveryPremium is Office 365 Advanced eDiscovery, i.e.
	// Microsoft Purview eDiscovery (Premium).
	planEDiscoveryPremium = servicePlan{"4de31727-a228-4ec3-a5bf-8e45b5ca48cf", "EQUIVIO_ANALYTICS"}
)

// sku is a product: its id and service plans.
type sku struct {
	id    string
	name  string // the product's display name
	plans []servicePlan
}

// skuCatalog holds real SKU part numbers and ids with their main service plans.
var skuCatalog = map[string]sku{
	"O365_BUSINESS_PREMIUM": {"f245ecc8-75af-4f8e-b61f-27d8114de5f3", "Microsoft 365 Business Standard",
		[]servicePlan{planExchangeStandard, planSharePointStandard, planTeams, planOfficeApps}},
	"SPB": {"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "Microsoft 365 Business Premium",
		[]servicePlan{planExchangeStandard, planSharePointStandard, planTeams, planOfficeApps, planEntraP1, planMFAPremium, planIntune, planRMSPremium}},
	"ENTERPRISEPACK": {"6fd2c87f-b296-42f0-b197-1e91e994b900", "Office 365 E3",
		[]servicePlan{planExchangeEnterprise, planSharePointEnt, planTeams, planOfficeApps}},
	"ENTERPRISEPREMIUM": {"c7df2760-2c81-4ef7-b578-5b5392b571df", "Office 365 E5",
		[]servicePlan{planExchangeEnterprise, planSharePointEnt, planTeams, planOfficeApps, planEDiscoveryPremium, planLockbox}},
	"SPE_E3": {"05e9a617-0261-4cee-bb44-138d3ef5d965", "Microsoft 365 E3",
		[]servicePlan{planExchangeEnterprise, planSharePointEnt, planTeams, planOfficeApps, planEntraP1, planMFAPremium, planIntune, planRMSPremium}},
	"SPE_E5": {"06ebc4ee-1bb5-47dd-8120-11324bc54e06", "Microsoft 365 E5",
		[]servicePlan{planExchangeEnterprise, planSharePointEnt, planTeams, planOfficeApps, planEntraP1, planEntraP2, planMFAPremium,
			planIntune, planRMSPremium, planRMSPremium2, planEDiscoveryPremium, planLockbox}},
	"AAD_PREMIUM": {"078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "Microsoft Entra ID P1",
		[]servicePlan{planEntraP1, planMFAPremium}},
	"AAD_PREMIUM_P2": {"84a661c4-e949-4bd2-a560-ed7766fcaf2b", "Microsoft Entra ID P2",
		[]servicePlan{planEntraP1, planEntraP2, planMFAPremium}},
	"Microsoft_Entra_ID_Governance": {"cf6b0d46-4093-4546-a0ab-0b1546dcc10e", "Microsoft Entra ID Governance",
		[]servicePlan{planGovernance}},
	"VISIOCLIENT":       {"c5928f49-12ba-48f7-ada3-0d743a3601d5", "Visio Plan 2", []servicePlan{planVisio}},
	"POWER_BI_PRO":      {"f8a1db68-be16-40ed-86d5-cb42ce701560", "Power BI Pro", []servicePlan{planPowerBIPro}},
	"PROJECTPREMIUM":    {"09015f9f-377f-4538-bbb5-f75ceb09358a", "Project Plan 5", []servicePlan{planProject}},
	"POWER_BI_STANDARD": {"a403ebcc-fae0-4ca2-8c8c-7a907fd6c235", "Microsoft Fabric (Free)", []servicePlan{planPowerBIFree}},
	"FLOW_FREE":         {"f30db892-07e9-47e9-837c-80727f46fd3d", "Microsoft Power Automate Free", []servicePlan{planFlowViral}},
}

// Licence mixes for TenantSpec.Subscriptions.

// BusinessStandard is Microsoft 365 Business Standard alone: no Entra ID
// premium feature, no eDiscovery (Premium).
func BusinessStandard(licenses int) []SubscriptionSpec {
	return []SubscriptionSpec{{SkuPartNumber: "O365_BUSINESS_PREMIUM", Channel: "direct", Licenses: licenses, Consumed: licenses * 3 / 4}}
}

// E3WithOffice365E5 is the common mix of Microsoft 365 E3 (Entra ID P1) and
// Office 365 E5 (eDiscovery Premium) with no Entra ID P2: conditional access
// answers, PIM does not.
func E3WithOffice365E5(licenses int) []SubscriptionSpec {
	return []SubscriptionSpec{
		{SkuPartNumber: "SPE_E3", Channel: "direct", Licenses: licenses, Consumed: licenses * 4 / 5},
		{SkuPartNumber: "ENTERPRISEPREMIUM", Channel: "csp", Licenses: licenses / 2, Consumed: licenses / 4},
	}
}

// E5 is Microsoft 365 E5 (Entra ID P1 and P2, eDiscovery Premium).
func E5(licenses int) []SubscriptionSpec {
	return []SubscriptionSpec{{SkuPartNumber: "SPE_E5", Channel: "direct", Licenses: licenses, Consumed: licenses * 4 / 5}}
}

// Features a tenant's licences unlock.
const (
	FeatureEntraP1            = "Microsoft Entra ID P1"
	FeatureEntraP2            = "Microsoft Entra ID P2"
	FeatureEDiscoveryPremium  = "Microsoft Purview eDiscovery (Premium)"
	featureGovernancePlanName = "Entra_Identity_Governance"
)

// plansOf returns the service plans of a subscription's SKU.
func plansOf(part string) []servicePlan { return skuCatalog[part].plans }

// features are what the tenant's subscriptions not yet Deleted unlock:
// Enabled, Warning (expired, grace), Suspended and LockedOut (disabled)
// subscriptions keep their features until they are Deleted.
func (t *tenantData) features() map[string]bool {
	out := map[string]bool{}
	for _, s := range t.subs {
		if s.status == "Deleted" {
			continue
		}
		for _, p := range plansOf(s.skuPart) {
			switch p.name {
			case planEntraP1.name:
				out[FeatureEntraP1] = true
			case planEntraP2.name, featureGovernancePlanName:
				out[FeatureEntraP2] = true
				if p.name == planEntraP2.name {
					out[FeatureEntraP1] = true // P2 includes P1
				}
			case planEDiscoveryPremium.name:
				out[FeatureEDiscoveryPremium] = true
			}
		}
	}
	return out
}

// Features lists what the tenant's licences unlock now, sorted.
func (t *Tenant) Features() []string {
	var out []string
	_ = t.with(func(td *tenantData, _ time.Time) error {
		for f := range td.features() {
			out = append(out, f)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// The refusals of an unlicensed tenant.
const (
	// pimUnlicensedMessage is what the PIM routes answer without Entra ID
	// P2 or ID Governance (issue 10 quotes it; community code matches it).
	pimUnlicensedMessage = "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."
	// caUnlicensedMessage is Graph's text for the non-premium refusal
	// (microsoft-graph-docs-contrib#3808, #3581).
	caUnlicensedMessage = "Neither tenant is B2C or tenant doesn't have premium license"
	// eDiscoveryUnlicensedMessage is assumed: no Microsoft or community
	// source gives eDiscovery's refusal for a tenant without Premium.
	eDiscoveryUnlicensedMessage = "The tenant does not have a license for Microsoft Purview eDiscovery (Premium)."
)

// licensed answers the licence refusal for a route that needs feature and
// reports whether the call may go on.
func (c *call) licensed(feature string) bool {
	if c.t.features()[feature] {
		return true
	}
	switch feature {
	case FeatureEntraP2:
		c.fail(http.StatusBadRequest, "AadPremiumLicenseRequired", pimUnlicensedMessage)
	case FeatureEntraP1:
		c.fail(http.StatusForbidden, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", caUnlicensedMessage)
	case FeatureEDiscoveryPremium:
		if c.d.s.opts.Assumed.EDiscoveryWithoutPremium {
			return true
		}
		c.fail(http.StatusForbidden, "Forbidden", eDiscoveryUnlicensedMessage)
	default:
		return true
	}
	return false
}
